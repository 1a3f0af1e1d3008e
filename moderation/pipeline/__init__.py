"""The author's pipeline, `invoke moderate`: from pending comments to published files.

Its policy (`rules`, `policy`: what is decided automatically and why), its run (`run`,
`akismet_client`, `publish`: the steps and the files they write) and its console
(`console`: the review and everything printed for the author).
"""
