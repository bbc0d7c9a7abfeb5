-- jobs get a priority
--
-- Revision ID: j2
-- Revises: j1
-- Create Date: 2026-12-04 12:10:00+00:00

-- migrate:upgrade
ALTER TABLE job ADD COLUMN priority INT NOT NULL DEFAULT 0;
INSERT INTO job_log (rev) VALUES ('j2');

-- migrate:downgrade
ALTER TABLE job DROP COLUMN priority;
DELETE FROM job_log WHERE rev = 'j2';
