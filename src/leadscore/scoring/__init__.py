"""Batch scoring of a whole lead database in bounded chunks: sources, sinks, the score loop, Dask.

Everything here streams: a source yields raw lead chunks, :func:`batch.score_frame` turns one chunk
into output rows, and a sink writes them atomically (a temp file/dir renamed into place, or one
database transaction), so an interrupted run leaves the previous output untouched.
"""
