"""Looking across finished runs: ``gan compare`` (a results table) and ``gan report`` (an HTML page of figures).

These read run directories and never change them. ``runindex`` finds runs and
reads what they recorded; ``compare`` groups them by their settings (seeds
pooled); ``report`` turns the same groups into figures and an ``index.html``.
"""
