"""Views: a run turned into something to look at or take home (texts, figures, exports).

The views import the core (``attention_core``), never the other way round. matplotlib is imported
only inside ``figures`` functions, so texts and exports stay light.
"""
