#include "ui/library_view.h"

#include <QAction>
#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMimeData>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/library_model.h"
#include "ui/qt_types.h"

namespace memlong::ui {

namespace {

// Paints a progress bar with its text in the Progress column while a document is being read.
class ProgressDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override {
    const int percent = index.data(LibraryModel::kProgressRole).toInt();
    if (percent < 0) return QStyledItemDelegate::paint(painter, option, index);
    QStyleOptionProgressBar bar;
    bar.rect = option.rect.adjusted(2, 3, -2, -3);
    bar.minimum = 0;
    bar.maximum = 100;
    bar.progress = percent;
    bar.text = index.data(LibraryModel::kProgressTextRole).toString();
    bar.textVisible = true;
    bar.state = option.state | QStyle::State_Horizontal;
    bar.palette = option.palette;
    const QWidget* w = option.widget;
    QStyle* style = w != nullptr ? w->style() : QApplication::style();
    style->drawControl(QStyle::CE_ProgressBar, &bar, painter, w);
  }
};

}  // namespace

LibraryView::LibraryView(LibraryModel* model, QWidget* parent) : QWidget(parent), m_model(model) {
  m_table = new QTableView(this);
  m_table->setObjectName(QStringLiteral("libraryTable"));
  m_table->setModel(model);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->setItemDelegateForColumn(LibraryModel::kProgress, new ProgressDelegate(m_table));
  m_table->horizontalHeader()->setSectionResizeMode(LibraryModel::kTitle, QHeaderView::Stretch);
  m_table->horizontalHeader()->setSectionResizeMode(LibraryModel::kProgress,
                                                    QHeaderView::Interactive);
  m_table->horizontalHeader()->resizeSection(LibraryModel::kProgress, 260);
  m_table->horizontalHeader()->setSectionResizeMode(LibraryModel::kPath, QHeaderView::Interactive);
  m_table->verticalHeader()->hide();
  m_table->setAlternatingRowColors(true);
  m_table->viewport()->setAcceptDrops(true);
  m_table->viewport()->installEventFilter(this);
  setAcceptDrops(true);
  installEventFilter(this);

  m_addFiles = new QPushButton(tr("Add &files…"), this);
  m_addFolder = new QPushButton(tr("Add f&older…"), this);
  m_remove = new QPushButton(tr("&Remove"), this);
  m_reingest = new QPushButton(tr("Read &again"), this);
  m_pause = new QPushButton(tr("&Pause"), this);
  m_cancel = new QPushButton(tr("&Cancel"), this);
  m_addFiles->setObjectName(QStringLiteral("addFilesButton"));
  m_remove->setObjectName(QStringLiteral("removeButton"));
  m_pause->setObjectName(QStringLiteral("pauseIngestButton"));
  m_cancel->setObjectName(QStringLiteral("cancelIngestButton"));
  m_remove->setToolTip(tr("Remove the selected document from the library (Delete)"));
  m_reingest->setToolTip(tr("Read the selected document's file again"));

  m_overall = new QProgressBar(this);
  m_overall->setObjectName(QStringLiteral("overallIngestProgress"));
  m_overall->setRange(0, 100);
  m_overallLabel = new QLabel(this);
  m_dropHint = new QLabel(
      tr("Drop books here (EPUB, PDF, DOCX, HTML, Markdown, text), or use Add files."), this);
  m_dropHint->setEnabled(false);

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_addFiles);
  buttons->addWidget(m_addFolder);
  buttons->addWidget(m_remove);
  buttons->addWidget(m_reingest);
  buttons->addStretch(1);
  buttons->addWidget(m_pause);
  buttons->addWidget(m_cancel);
  auto* progress = new QHBoxLayout;
  progress->addWidget(m_overall, 1);
  progress->addWidget(m_overallLabel, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(buttons);
  layout->addWidget(m_table, 1);
  layout->addLayout(progress);
  layout->addWidget(m_dropHint);

  connect(m_addFiles, &QPushButton::clicked, this, &LibraryView::addFiles);
  connect(m_addFolder, &QPushButton::clicked, this, &LibraryView::addFolder);
  connect(m_remove, &QPushButton::clicked, this, [this] {
    if (const qint64 id = selectedDocument(); id != 0) emit removeRequested(id);
  });
  connect(m_reingest, &QPushButton::clicked, this, [this] {
    const QModelIndex i = m_table->currentIndex();
    if (const qint64 id = selectedDocument(); id != 0)
      emit reingestRequested(id, i.data(LibraryModel::kPathRole).toString());
  });
  connect(m_pause, &QPushButton::clicked, this, [this] { emit pauseRequested(!m_paused); });
  connect(m_cancel, &QPushButton::clicked, this, &LibraryView::cancelRequested);
  auto* removeKey = new QAction(this);
  removeKey->setShortcut(QKeySequence::Delete);
  removeKey->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  m_table->addAction(removeKey);
  connect(removeKey, &QAction::triggered, m_remove, &QPushButton::click);
  connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    const qint64 id = i.data(LibraryModel::kDocIdRole).toLongLong();
    if (id != 0) emit openInReaderRequested(id);
  });
  connect(m_table->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &LibraryView::updateButtons);
  connect(model, &QAbstractItemModel::modelReset, this, &LibraryView::updateButtons);
  setIngesting(false);
}

qint64 LibraryView::selectedDocument() const {
  const QModelIndex i = m_table->currentIndex();
  return i.isValid() ? i.data(LibraryModel::kDocIdRole).toLongLong() : 0;
}

void LibraryView::addFiles() {
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Add books"), QString(),
      tr("Books and documents (*.epub *.pdf *.docx *.html *.htm *.xhtml *.md *.markdown *.txt);;"
         "All files (*)"));
  if (!files.isEmpty()) emit addPathsRequested(files);
}

void LibraryView::addFolder() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a folder of books"));
  if (!dir.isEmpty()) emit addPathsRequested({dir});
}

bool LibraryView::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() == QEvent::DragEnter || event->type() == QEvent::DragMove) {
    auto* e = static_cast<QDropEvent*>(event);
    if (e->mimeData()->hasUrls() && m_ready) {
      e->acceptProposedAction();
      return true;
    }
  } else if (event->type() == QEvent::Drop) {
    auto* e = static_cast<QDropEvent*>(event);
    QStringList paths;
    for (const QUrl& url : e->mimeData()->urls()) {
      if (url.isLocalFile()) paths << url.toLocalFile();
    }
    if (!paths.isEmpty() && m_ready) {
      e->acceptProposedAction();
      emit addPathsRequested(paths);
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

void LibraryView::setIngesting(bool running) {
  m_ingesting = running;
  if (!running) {
    m_paused = false;
    m_overall->setValue(0);
    m_overallLabel->clear();
  }
  m_overall->setVisible(running);
  m_overallLabel->setVisible(running);
  updateButtons();
}

void LibraryView::setPaused(bool paused) {
  m_paused = paused;
  m_pause->setText(paused ? tr("Res&ume") : tr("&Pause"));
  if (paused) m_overallLabel->setText(tr("Paused"));
}

void LibraryView::setEngineReady(bool ready) {
  m_ready = ready;
  updateButtons();
}

void LibraryView::showOverallProgress(const memlong::IngestProgress& p) {
  if (!m_ingesting) setIngesting(true);
  const int percent =
      p.tokens_total > 0
          ? static_cast<int>(std::min<int64_t>(100, p.tokens_done * 100 / p.tokens_total))
          : 0;
  m_overall->setValue(percent);
  QString text = tr("File %1 of %2: %3")
                     .arg(p.file_index + 1)
                     .arg(p.n_files)
                     .arg(qstr(p.path).section(QLatin1Char('/'), -1));
  text += QStringLiteral(" · ") + LibraryModel::progressText(p);
  if (m_paused) text = tr("Paused") + QStringLiteral(" · ") + text;
  m_overallLabel->setText(text);
}

void LibraryView::updateButtons() {
  const bool hasSelection = selectedDocument() != 0;
  m_addFiles->setEnabled(m_ready);
  m_addFolder->setEnabled(m_ready);
  m_remove->setEnabled(m_ready && hasSelection);
  m_reingest->setEnabled(m_ready && hasSelection);
  m_pause->setEnabled(m_ingesting);
  m_cancel->setEnabled(m_ingesting);
  m_dropHint->setVisible(m_model->rowCount() == 0);
}

}  // namespace memlong::ui
