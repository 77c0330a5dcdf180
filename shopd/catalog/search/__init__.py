"""Storefront search: typos forgiven, plurals and spacing in English and Spanish, synonyms
staff edit, Chinese by substring and by pinyin; ranked by relevance, then sales.

- ``words``: folding, Latin words and Chinese runs, stems, pinyin.
- ``index``: ``SearchIndex``, the listed products' words in memory, and how a query matches.
- ``keeper``: the worker's index, rebuilt when the catalog version moves.
- ``synonyms``: the staff's synonym groups (read, replace).
"""
