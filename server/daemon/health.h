#pragma once
// Readiness of sluiced for /readyz: ready when every configured source is streaming or
// snapshotting (so it is capturing changes). Liveness (/healthz) is the HTTP server answering.
//
// Pure; thread-compatible.

#include <string>
#include <vector>

#include "server/metrics/http_server.h"
#include "server/pipeline/source_registry.h"

namespace sluice::daemon {

// 200 "ready\n" plus one "NAME: STATE" line per source when every source is STREAMING or
// SNAPSHOTTING (or there are none); otherwise 503 "not ready\n" plus one line per source that is
// not, naming its state and, in state error, its last error.
metrics::HttpResponse Readiness(const std::vector<pipeline::SourceRuntime>& sources);

}  // namespace sluice::daemon
