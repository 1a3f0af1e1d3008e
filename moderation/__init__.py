"""Everything after a reader presses "Post Comment".

Intake, inbox, checks, review, publish and import, one module per job.
"""
