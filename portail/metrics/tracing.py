"""Optional OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT is set and the
OpenTelemetry packages are installed (opentelemetry-sdk, opentelemetry-exporter-otlp-proto-http,
opentelemetry-instrumentation-django: not dependencies of the portal).

The exporter reads the standard OTEL_* variables (endpoint, headers, OTEL_SERVICE_NAME).
"""

import logging
import os
from importlib import import_module

logger = logging.getLogger(__name__)


def configure() -> None:
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    try:
        trace = import_module("opentelemetry.trace")
        sdk_trace = import_module("opentelemetry.sdk.trace")
        export = import_module("opentelemetry.sdk.trace.export")
        resources = import_module("opentelemetry.sdk.resources")
        otlp = import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
        instrumentation = import_module("opentelemetry.instrumentation.django")
    except ImportError:
        logger.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed")
        return
    service = os.environ.get("OTEL_SERVICE_NAME", "portail")
    provider = sdk_trace.TracerProvider(
        resource=resources.Resource.create({"service.name": service})
    )
    provider.add_span_processor(export.BatchSpanProcessor(otlp.OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    instrumentation.DjangoInstrumentor().instrument()
    logger.info("Tracing: spans exported over OTLP")
