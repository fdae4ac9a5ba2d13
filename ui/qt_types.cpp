#include "ui/qt_types.h"

namespace memlong::ui {

void registerMetaTypes() {
  qRegisterMetaType<ErrorInfo>();
  qRegisterMetaType<memlong::AssistantStatus>();
  qRegisterMetaType<memlong::DocumentInfo>();
  qRegisterMetaType<std::vector<memlong::DocumentInfo>>();
  qRegisterMetaType<memlong::IngestProgress>();
  qRegisterMetaType<memlong::IngestReport>();
  qRegisterMetaType<memlong::DocumentText>();
  qRegisterMetaType<memlong::Answer>();
  qRegisterMetaType<std::vector<memlong::LibraryHit>>();
  qRegisterMetaType<memlong::SummaryProgress>();
  qRegisterMetaType<memlong::Summary>();
  qRegisterMetaType<memlong::SessionInfo>();
  qRegisterMetaType<std::vector<memlong::SessionInfo>>();
  qRegisterMetaType<std::vector<memlong::ConversationMessage>>();
  qRegisterMetaType<std::vector<memlong::MemoryMapEntry>>();
}

}  // namespace memlong::ui
