#include "ui/settings_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include "core/common/paths.h"
#include "ui/qt_types.h"

namespace memlong::ui {

namespace {
QWidget* withBrowse(QLineEdit* edit, QWidget* parent, bool folder, const QString& title,
                    const QString& filter) {
  auto* box = new QWidget(parent);
  auto* row = new QHBoxLayout(box);
  row->setContentsMargins(0, 0, 0, 0);
  auto* browse = new QPushButton(QObject::tr("Browse…"), box);
  row->addWidget(edit, 1);
  row->addWidget(browse);
  QObject::connect(browse, &QPushButton::clicked, box, [=] {
    const QString chosen = folder
                               ? QFileDialog::getExistingDirectory(parent, title, edit->text())
                               : QFileDialog::getOpenFileName(parent, title, edit->text(), filter);
    if (!chosen.isEmpty()) edit->setText(chosen);
  });
  return box;
}

void setComboData(QComboBox* combo, const QString& data) {
  const int i = combo->findData(data);
  combo->setCurrentIndex(i >= 0 ? i : 0);
}
}  // namespace

SettingsDialog::SettingsDialog(const AppSettings& settings, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Settings"));
  m_model = new QLineEdit(this);
  m_model->setPlaceholderText(tr("Default: %1").arg(qstr(memlong::default_model_path())));
  m_retriever = new QLineEdit(this);
  m_retriever->setPlaceholderText(tr("Default: %1").arg(qstr(memlong::default_retriever_path())));
  m_library = new QLineEdit(this);
  m_library->setPlaceholderText(
      tr("Default: %1").arg(qstr(memlong::default_library_dir().string())));
  m_device = new QComboBox(this);
  m_device->addItem(tr("Automatic (GPU when available)"), QStringLiteral("auto"));
  m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
  m_device->addItem(tr("CUDA GPU"), QStringLiteral("cuda"));
  m_threads = new QSpinBox(this);
  m_threads->setRange(0, 256);
  m_threads->setSpecialValueText(tr("One per core (%1)").arg(QThread::idealThreadCount()));
  m_memoryK = new QSpinBox(this);
  m_memoryK->setRange(4, 16 * 1024);
  m_memoryK->setSuffix(tr(" k tokens"));
  m_memoryK->setToolTip(
      tr("How many tokens of your books the session's memory keeps before it "
         "evicts entries"));
  m_topK = new QSpinBox(this);
  m_topK->setRange(1, 64);
  m_topK->setToolTip(tr("Passages (memory entries) retrieved for each question"));
  m_entry = new QSpinBox(this);
  m_entry->setRange(16, 1024);
  m_entry->setSingleStep(16);
  m_entry->setSuffix(tr(" tokens"));
  m_position = new QComboBox(this);
  m_position->addItem(tr("Model default"), QString());
  m_position->addItem(tr("Zero (memory at position 0)"), QStringLiteral("zero"));
  m_position->addItem(tr("Contiguous"), QStringLiteral("contiguous"));
  m_eviction = new QComboBox(this);
  m_eviction->addItem(tr("Model default"), QString());
  m_eviction->addItem(tr("Least retrieved first (counter)"), QStringLiteral("counter"));
  m_eviction->addItem(tr("Oldest half first (FIFO)"), QStringLiteral("fifo_half"));
  m_answerMode = new QComboBox(this);
  m_answerMode->addItem(tr("Retrieved text in the prompt"), QStringLiteral("text"));
  m_answerMode->addItem(tr("MemLong memory attention"), QStringLiteral("memory"));
  m_answerMode->addItem(tr("No context (model only)"), QStringLiteral("none"));
  m_maxTokens = new QSpinBox(this);
  m_maxTokens->setRange(16, 4096);
  m_maxTokens->setSuffix(tr(" tokens"));
  m_language = new QComboBox(this);
  m_language->addItem(tr("System language"), QString());
  m_language->addItem(QStringLiteral("English"), QStringLiteral("en"));
  m_language->addItem(QStringLiteral("한국어"), QStringLiteral("ko"));

  auto* form = new QFormLayout;
  form->addRow(tr("Model file:"), withBrowse(m_model, this, false, tr("Choose a model"),
                                             tr("Models (*.gguf *.safetensors);;All files (*)")));
  form->addRow(tr("Retriever:"), withBrowse(m_retriever, this, false, tr("Choose a retriever"),
                                            tr("Retrievers (*.bin);;All files (*)")));
  form->addRow(tr("Library folder:"),
               withBrowse(m_library, this, true, tr("Choose the library folder"), {}));
  form->addRow(tr("Device:"), m_device);
  form->addRow(tr("Threads:"), m_threads);
  form->addRow(tr("Memory size:"), m_memoryK);
  form->addRow(tr("Top-k:"), m_topK);
  form->addRow(tr("Memory entry size:"), m_entry);
  form->addRow(tr("Position mode:"), m_position);
  form->addRow(tr("Eviction policy:"), m_eviction);
  form->addRow(tr("Answer mode:"), m_answerMode);
  form->addRow(tr("Answer length:"), m_maxTokens);
  form->addRow(tr("Language:"), m_language);
  auto* note =
      new QLabel(tr("Changing the model, device or memory settings reloads the model; "
                    "your library and sessions are kept. The language applies at the next start."),
                 this);
  note->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(
      QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
          [this] { setSettings(defaultSettings()); });
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(note);
  layout->addWidget(buttons);
  setSettings(settings);
}

void SettingsDialog::setSettings(const AppSettings& s) {
  m_model->setText(s.modelPath);
  m_retriever->setText(s.retrieverPath);
  m_library->setText(s.libraryDir);
  setComboData(m_device, s.device);
  m_threads->setValue(s.threads);
  m_memoryK->setValue(static_cast<int>(s.memoryTokens / 1024));
  m_topK->setValue(s.topK);
  m_entry->setValue(s.entryTokens);
  setComboData(m_position, s.positionMode);
  setComboData(m_eviction, s.evictionPolicy);
  setComboData(m_answerMode, s.answerMode);
  m_maxTokens->setValue(s.maxAnswerTokens);
  setComboData(m_language, s.language);
}

AppSettings SettingsDialog::settings() const {
  AppSettings s;
  s.modelPath = m_model->text().trimmed();
  s.retrieverPath = m_retriever->text().trimmed();
  s.libraryDir = m_library->text().trimmed();
  s.device = m_device->currentData().toString();
  s.threads = m_threads->value();
  s.memoryTokens = static_cast<qint64>(m_memoryK->value()) * 1024;
  s.topK = m_topK->value();
  s.entryTokens = m_entry->value();
  s.positionMode = m_position->currentData().toString();
  s.evictionPolicy = m_eviction->currentData().toString();
  s.answerMode = m_answerMode->currentData().toString();
  s.maxAnswerTokens = m_maxTokens->value();
  s.language = m_language->currentData().toString();
  return s;
}

}  // namespace memlong::ui
