"""What KServe does with a ServingRuntime and an InferenceService, as pure functions.

Modules: ``flags`` (argument parsing and de-duplicating merge), ``placeholders`` (the Go
template pass over containers), ``smp`` (strategic-merge-patch semantics), ``merge``
(container and pod assembly), ``image`` (image tag rewriting) and ``select`` (runtime
auto-selection).
"""
