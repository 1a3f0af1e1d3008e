"""The comment intake: the HTTP service readers' comments, likes and removal requests
reach, writing them into the private inbox (moderation.inbox).

`app` holds the endpoints, `forms` checks what readers send, `pages` are the few pages it
serves itself, `ratelimit` and `writer` keep it fair and durable, `targets` knows what may
be commented on (comments.json), and `server` runs it with uvicorn.
"""
