#include "ui/library_model.h"

#include <QLocale>
#include <algorithm>

#include "ui/qt_types.h"

namespace memlong::ui {

LibraryModel::LibraryModel(QObject* parent) : QAbstractTableModel(parent) {}

void LibraryModel::setDocuments(const std::vector<memlong::DocumentInfo>& docs) {
  beginResetModel();
  m_docs = docs;
  // Files in flight that the store does not list yet stay visible as pending rows.
  for (auto it = m_live.cbegin(); it != m_live.cend(); ++it) {
    if (rowOfPath(it.key()) >= 0) continue;
    memlong::DocumentInfo pending;
    pending.path = stdstr(it.key());
    pending.title = stdstr(baseName(it.key()));
    pending.status = memlong::DocumentStatus::kIngesting;
    m_docs.push_back(pending);
  }
  m_shown = std::min<int>(static_cast<int>(m_docs.size()), kBatchSize);
  endResetModel();
}

QString LibraryModel::baseName(const QString& path) {
  const qsizetype slash = path.lastIndexOf(QLatin1Char('/'));
  return slash < 0 ? path : path.mid(slash + 1);
}

int LibraryModel::rowOfPath(const QString& path) const {
  const std::string p = stdstr(path);
  for (size_t i = 0; i < m_docs.size(); ++i) {
    if (m_docs[i].path == p) return static_cast<int>(i);
  }
  return -1;
}

int LibraryModel::rowOfDocument(qint64 docId) const {
  for (size_t i = 0; i < m_docs.size(); ++i) {
    if (m_docs[i].id == docId && docId != 0) return static_cast<int>(i);
  }
  return -1;
}

void LibraryModel::applyProgress(const memlong::IngestProgress& p) {
  const QString path = qstr(p.path);
  const bool finished =
      p.stage == memlong::IngestStage::kDone || p.stage == memlong::IngestStage::kSkipped ||
      p.stage == memlong::IngestStage::kFailed || p.stage == memlong::IngestStage::kCancelled;
  int row = rowOfPath(path);
  if (finished) {
    m_live.remove(path);
  } else {
    m_live[path].progress = p;
  }
  if (row < 0 && !finished) {
    memlong::DocumentInfo pending;
    pending.path = p.path;
    pending.title = stdstr(baseName(path));
    pending.status = memlong::DocumentStatus::kIngesting;
    row = static_cast<int>(m_docs.size());
    const bool visible = m_shown == row;  // all earlier rows shown: show this one at once
    if (visible) beginInsertRows({}, row, row);
    m_docs.push_back(pending);
    if (visible) {
      ++m_shown;
      endInsertRows();
    }
    return;
  }
  if (row < 0) return;
  memlong::DocumentInfo& d = m_docs[static_cast<size_t>(row)];
  if (p.stage == memlong::IngestStage::kFailed) {
    d.status = memlong::DocumentStatus::kFailed;
    d.error = p.message;
  } else if (p.stage == memlong::IngestStage::kDone) {
    d.status = memlong::DocumentStatus::kReady;
  } else if (!finished) {
    d.status = memlong::DocumentStatus::kIngesting;
  }
  if (row < m_shown) emit dataChanged(index(row, 0), index(row, kColumnCount - 1));
}

void LibraryModel::clearProgress() {
  if (m_live.isEmpty()) return;
  m_live.clear();
  if (m_shown > 0) emit dataChanged(index(0, 0), index(m_shown - 1, kColumnCount - 1));
}

const memlong::DocumentInfo* LibraryModel::document(int row) const {
  if (row < 0 || row >= m_shown) return nullptr;
  return &m_docs[static_cast<size_t>(row)];
}

QString LibraryModel::statusText(memlong::DocumentStatus status) {
  switch (status) {
    case memlong::DocumentStatus::kPending:
      return tr("Waiting");
    case memlong::DocumentStatus::kIngesting:
      return tr("Reading");
    case memlong::DocumentStatus::kReady:
      return tr("Ready");
    case memlong::DocumentStatus::kFailed:
      return tr("Failed");
  }
  return {};
}

namespace {
QString formatDuration(double seconds) {
  const qint64 s = static_cast<qint64>(seconds + 0.5);
  if (s >= 3600) {
    return QStringLiteral("%1:%2:%3")
        .arg(s / 3600)
        .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
  }
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

int percentOf(const memlong::IngestProgress& p) {
  if (p.chunks_total <= 0) return 0;
  return static_cast<int>(std::clamp<int64_t>(p.chunks_done * 100 / p.chunks_total, 0, 100));
}
}  // namespace

QString LibraryModel::progressText(const memlong::IngestProgress& p) {
  QString text;
  switch (p.stage) {
    case memlong::IngestStage::kParsing:
      text = tr("Parsing");
      break;
    case memlong::IngestStage::kCommitting:
      text = tr("Saving");
      break;
    default:
      text = QStringLiteral("%1%").arg(percentOf(p));
      break;
  }
  if (p.tokens_per_s > 0) {
    text += QStringLiteral(" · ") +
            tr("%1 tok/s").arg(QLocale().toString(static_cast<qint64>(p.tokens_per_s)));
  }
  if (p.eta_s >= 0) text += QStringLiteral(" · ") + tr("%1 left").arg(formatDuration(p.eta_s));
  return text;
}

int LibraryModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : m_shown;
}

int LibraryModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant LibraryModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= m_shown) return {};
  const memlong::DocumentInfo& d = m_docs[static_cast<size_t>(index.row())];
  const QString path = qstr(d.path);
  auto live = m_live.constFind(path);
  const bool isLive = live != m_live.cend();
  switch (role) {
    case kDocIdRole:
      return QVariant::fromValue<qint64>(d.id);
    case kPathRole:
      return path;
    case kStatusRole:
      return static_cast<int>(d.status);
    case kProgressRole:
      return isLive ? percentOf(live->progress) : -1;
    case kSpeedRole:
      return isLive ? live->progress.tokens_per_s : 0.0;
    case kEtaRole:
      return isLive ? live->progress.eta_s : -1.0;
    case kProgressTextRole:
      return isLive ? progressText(live->progress) : QString();
    case Qt::ToolTipRole:
      if (d.status == memlong::DocumentStatus::kFailed) return qstr(d.error);
      return path;
    case Qt::DisplayRole:
      switch (index.column()) {
        case kTitle:
          return d.title.empty() ? baseName(path) : qstr(d.title);
        case kStatus:
          return statusText(d.status);
        case kProgress:
          if (isLive) return progressText(live->progress);
          return d.status == memlong::DocumentStatus::kReady ? tr("Done") : QString();
        case kTokens:
          return d.n_tokens > 0 ? QLocale().toString(static_cast<qint64>(d.n_tokens)) : QString();
        case kFormat:
          return qstr(d.format);
        case kPath:
          return path;
      }
      break;
    default:
      break;
  }
  return {};
}

QVariant LibraryModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kTitle:
      return tr("Title");
    case kStatus:
      return tr("Status");
    case kProgress:
      return tr("Progress");
    case kTokens:
      return tr("Tokens");
    case kFormat:
      return tr("Format");
    case kPath:
      return tr("File");
  }
  return {};
}

bool LibraryModel::canFetchMore(const QModelIndex& parent) const {
  return !parent.isValid() && m_shown < static_cast<int>(m_docs.size());
}

void LibraryModel::fetchMore(const QModelIndex& parent) {
  if (parent.isValid()) return;
  const int remaining = static_cast<int>(m_docs.size()) - m_shown;
  const int n = std::min(remaining, kBatchSize);
  if (n <= 0) return;
  beginInsertRows({}, m_shown, m_shown + n - 1);
  m_shown += n;
  endInsertRows();
}

}  // namespace memlong::ui
