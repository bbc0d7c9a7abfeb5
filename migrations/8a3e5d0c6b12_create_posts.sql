-- create posts
--
-- Revision ID: 8a3e5d0c6b12
-- Revises: 4f1c2a9b7e01
-- Create Date: 2026-11-21 10:15:00+00:00

-- migrate:upgrade
CREATE TABLE posts (
    id BIGINT NOT NULL PRIMARY KEY,
    author_id BIGINT NOT NULL REFERENCES users (id),
    title VARCHAR(200) NOT NULL,
    body TEXT NOT NULL
);

-- migrate:downgrade
DROP TABLE posts;
