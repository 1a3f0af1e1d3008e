"""Everything after a reader presses "Post Comment", and the way in from WordPress.

- `intake/`: the HTTP service that takes comments, likes and removal requests;
- `inbox`: the private SQLite inbox the intake writes and the pipeline reads (shared);
- `pipeline/`: `invoke moderate`, from pending comments to published comment files;
- `importers/`: a WordPress export made into content/;
- `settings`: the one loader of the project's settings, used by all of them and tasks.py.

DESIGN.md at the repository root is the map.
"""
