"""Video in: listing, checking and decoding the user's video files; frame sources that decode a file, a camera or a
network stream in a thread of their own (no Qt); and synthetic footage for the tests, the demo and the benchmarks.
Nothing here knows about regions, models or windows: every later stage reads its frames through this one.
"""
