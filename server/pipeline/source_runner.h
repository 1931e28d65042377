#pragma once
// SourceRunner: one running source connector. It owns a thread that reads the source, assembles
// committed transactions and appends them to the change log, and acknowledges the source only
// for positions whose events are durable. It reports its state to the SourceRegistry.
//
// Lifecycle: construct, Start(), Stop() (idempotent; also run by the destructor).

namespace sluice::pipeline {

class SourceRunner {
 public:
  virtual ~SourceRunner() = default;
  virtual void Start() = 0;
  virtual void Stop() = 0;
};

}  // namespace sluice::pipeline
