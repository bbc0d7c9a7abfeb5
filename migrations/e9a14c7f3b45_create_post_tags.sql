-- create post_tags
--
-- Revision ID: e9a14c7f3b45
-- Revises: c6f08b1d2e34
-- Create Date: 2026-11-23 14:45:00+00:00

-- migrate:upgrade
CREATE TABLE post_tags (
    post_id BIGINT NOT NULL REFERENCES posts (id),
    tag_id BIGINT NOT NULL REFERENCES tags (id),
    PRIMARY KEY (post_id, tag_id)
);

-- migrate:downgrade
DROP TABLE post_tags;
