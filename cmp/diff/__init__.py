"""``cmp diff``: what a change does to the rendered manifests and to each model's pod.

Both sides are rendered by :func:`cmp.pipeline.render`, the code the Argo CD sidecar runs;
objects are matched semantically (:mod:`.match`, :mod:`.normalize`), each model gets a serving
summary (:mod:`.summary`), and a reporter (:mod:`.text`, :mod:`.markdown`, :mod:`.jsonout`)
formats the :class:`~cmp.diff.result.DiffReport`.
"""
