// memlong-parse-worker: the document parser helper. parse_document_isolated() starts one per
// file so that a parser crash, hang or memory blow-up on a hostile file ends this process only;
// the protocol and the limits it applies live in core/ingest/parse/sandbox.cpp.
#include "core/ingest/parse.h"

int main(int argc, char** argv) {
  return memlong::parse_worker_main(argc, argv);
}
