-- create users
--
-- Revision ID: 4f1c2a9b7e01
-- Revises:
-- Create Date: 2026-11-20 09:00:00+00:00

-- migrate:upgrade
CREATE TABLE users (
    id BIGINT NOT NULL PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    display_name VARCHAR(100) NOT NULL
);

-- migrate:downgrade
DROP TABLE users;
