"""Everything after a reader presses "Post Comment": intake, inbox, checks, review, publish, import."""
