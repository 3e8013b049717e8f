//! Amazon S3 (in progress).
