//! End-to-end suite: the `eventlake` binary against a local directory lake and a local S3 server.
