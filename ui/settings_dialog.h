// SettingsDialog: edits AppSettings (model and retriever files, library folder, device, threads,
// memory size, top-k, entry size, position mode, eviction policy, answer mode and length,
// language). The caller saves the result and, when needsReopen() says so, reopens the Assistant
// on the engine worker with the new AssistantOptions.
// Thread-safety: GUI thread only (it is a widget).
#pragma once

#include <QDialog>

#include "ui/settings.h"

class QComboBox;
class QLineEdit;
class QSpinBox;

namespace memlong::ui {

class SettingsDialog : public QDialog {
  Q_OBJECT

 public:
  explicit SettingsDialog(const AppSettings& settings, QWidget* parent = nullptr);

  AppSettings settings() const;
  void setSettings(const AppSettings& s);

 private:
  QLineEdit* m_model;
  QLineEdit* m_retriever;
  QLineEdit* m_library;
  QComboBox* m_device;
  QSpinBox* m_threads;
  QSpinBox* m_memoryK;  // thousands of tokens
  QSpinBox* m_topK;
  QSpinBox* m_entry;
  QComboBox* m_position;
  QComboBox* m_eviction;
  QComboBox* m_answerMode;
  QSpinBox* m_maxTokens;
  QComboBox* m_language;
};

}  // namespace memlong::ui
