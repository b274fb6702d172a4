"""Port flags and moving a container's ports and probes with them."""

from __future__ import annotations

from cmp.kserve.flags import FlagRules
from cmp.kserve.ports import default_ports, port_changes, port_values, rewrite_metrics_port, rewrite_ports

PLAIN = FlagRules()
VLLM = FlagRules(normalize_underscores=True)


def test_port_values_of_every_spelling_and_form():
    assert port_values(["--port", "3000", "--grpc_port=9001", "--x=1"], PLAIN, None) == {"port": 3000,
                                                                                         "grpc_port": 9001}
    assert port_values(["--http_port=1", "--http-port=2"], VLLM, None) == {"http-port": 2}
    assert port_values(["--port={{.Name}}"], PLAIN, {"name": "a"}) == {}


def test_port_changes_use_defaults_for_flags_the_runtime_does_not_set():
    assert port_changes(["--port=8080"], ["--port=9000"], PLAIN, None, {}) == {8080: 9000}
    assert port_changes([], ["--http_port=9000"], PLAIN, None, {}) == {}
    defaults = default_ports("huggingfaceserver", VLLM)
    assert port_changes([], ["--http_port=9000"], VLLM, None, defaults) == {8080: 9000}
    assert default_ports("tritonserver", PLAIN) == {}


def test_rewrite_ports_moves_ports_and_every_probe_handler():
    container = {
        "ports": [{"containerPort": 8080}, {"containerPort": 8081}],
        "readinessProbe": {"httpGet": {"port": 8080}},
        "livenessProbe": {"tcpSocket": {"port": 8080}},
        "startupProbe": {"grpc": {"port": 8081}},
    }
    changed = rewrite_ports(container, {8080: 9000})
    assert container["ports"] == [{"containerPort": 9000}, {"containerPort": 8081}]
    assert container["livenessProbe"]["tcpSocket"]["port"] == 9000
    assert container["startupProbe"]["grpc"]["port"] == 8081
    assert changed == ["ports[0].containerPort", "livenessProbe.tcpSocket.port", "readinessProbe.httpGet.port"]


def test_a_container_without_ports_moved_off_8080_declares_its_port():
    container: dict = {}
    assert rewrite_ports(container, {8080: 9000}) == ["ports"]
    assert container["ports"] == [{"containerPort": 9000, "name": "http1", "protocol": "TCP"}]
    assert rewrite_ports({}, {8080: 9000}, declare=False) == []
    assert rewrite_ports({}, {9000: 9001}) == []


def test_metrics_port_annotation_follows():
    annotations = {"prometheus.kserve.io/port": "8080"}
    assert rewrite_metrics_port(annotations, {8080: 9000})
    assert annotations == {"prometheus.kserve.io/port": "9000"}
    assert not rewrite_metrics_port({}, {8080: 9000})
