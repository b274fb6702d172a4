"""Argo CD side of kserve-cmp: where settings come from inside the sidecar, and what it announces.

``params`` decodes the Application's plugin parameters, ``sources`` resolves every setting
through the precedence chain, ``cluster`` checks the destination cluster facts Argo CD passes,
``announce`` builds the parameter announcements of ``plugin.yaml`` from the settings table, and
``generate`` is what the sidecar runs.
"""
