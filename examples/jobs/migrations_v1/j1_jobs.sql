-- the job queue
--
-- Revision ID: j1
-- Revises:
-- Create Date: 2026-12-04 12:00:00+00:00

-- migrate:upgrade
CREATE TABLE job (id INT PRIMARY KEY, kind VARCHAR(20) NOT NULL);
CREATE TABLE job_log (rev VARCHAR(32) NOT NULL);
INSERT INTO job_log (rev) VALUES ('j1');

-- migrate:downgrade
DROP TABLE job_log;
DROP TABLE job;
