-- What a PostGraphile user writes for the two listings its generated schema lacks: a tag's
-- posts and ranked search, ordered exactly as blog_graphql orders them (bench/run.py
-- applies this before starting PostGraphile; blog_graphql never reads this schema).
CREATE SCHEMA IF NOT EXISTS bench_postgraphile;

CREATE OR REPLACE FUNCTION bench_postgraphile.posts_tagged(tag text)
RETURNS SETOF public.posts LANGUAGE sql STABLE AS $$
  SELECT p.* FROM public.posts p
  WHERE p.published AND p.id IN (
    SELECT pt.post_id FROM public.post_tags pt JOIN public.tags t ON t.id = pt.tag_id
    WHERE t.slug = lower(tag) OR lower(t.name) = lower(tag))
  ORDER BY p.feed_at DESC, p.id DESC
$$;

CREATE OR REPLACE FUNCTION bench_postgraphile.search_posts(search text)
RETURNS SETOF public.posts LANGUAGE sql STABLE AS $$
  SELECT p.* FROM public.posts p
  WHERE p.published AND p.search_vector @@ websearch_to_tsquery('english'::regconfig, search)
  ORDER BY ts_rank(p.search_vector, websearch_to_tsquery('english'::regconfig, search)) DESC,
           p.feed_at DESC, p.id DESC
$$;
