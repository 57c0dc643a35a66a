"""Mail to panellists (issue 14): rendering (render), the SMTP sender (smtp), the database outbox
(outbox) and the worker that sends it (worker, run by `codesign worker`)."""
