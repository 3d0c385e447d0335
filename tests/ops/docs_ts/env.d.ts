// What Vite gives the recipes' `import.meta.env.VITE_API_URL`.
interface ImportMeta {
  readonly env: Record<string, string | undefined>;
}
