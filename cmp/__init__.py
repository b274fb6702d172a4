"""kserve-cmp: render ModelDeployment overlays into correct KServe manifests."""

__version__ = "0.1.0"
