-- create tags
--
-- Started on its own branch while posts were being written.
--
-- Revision ID: 2b7d9e4f0a23
-- Revises: 4f1c2a9b7e01
-- Create Date: 2026-11-21 11:30:00+00:00
-- Branch Labels: tagging

-- migrate:upgrade
CREATE TABLE tags (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(64) NOT NULL UNIQUE
);

-- migrate:downgrade
DROP TABLE tags;
