// Compatibility: callers that still import "ledger/ledger.js"; new code imports "ledger/index.js".
export * from "./index.js";
