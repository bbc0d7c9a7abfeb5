-- merge posts and tags
--
-- Revision ID: c6f08b1d2e34
-- Revises: 8a3e5d0c6b12, 2b7d9e4f0a23
-- Create Date: 2026-11-22 08:00:00+00:00

-- migrate:upgrade

-- migrate:downgrade
