// LibraryModel: the library's documents as a table for the Library view, plus the live ingestion
// progress of each file (from IngestProgress, matched by path). Rows arrive in batches through
// fetchMore (a library can hold thousands of documents). A file that is being ingested before the
// store knows it shows as a pending row keyed by its path.
// Thread-safety: GUI thread only (it is an item model).
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <vector>

#include "core/assistant/assistant_types.h"

namespace memlong::ui {

class LibraryModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kTitle, kStatus, kProgress, kTokens, kFormat, kPath, kColumnCount };
  enum Role {
    kDocIdRole = Qt::UserRole + 1,
    kPathRole,
    kStatusRole,       // int(DocumentStatus)
    kProgressRole,     // int 0..100, -1 when no ingestion is running for the row
    kSpeedRole,        // double tokens/s
    kEtaRole,          // double seconds, < 0 unknown
    kProgressTextRole  // "42% · 1,234 tok/s · 0:12 left"
  };
  static constexpr int kBatchSize = 256;

  explicit LibraryModel(QObject* parent = nullptr);

  // Replaces the list (keeps the progress of files still being ingested).
  void setDocuments(const std::vector<memlong::DocumentInfo>& docs);
  void applyProgress(const memlong::IngestProgress& progress);
  // Ends the progress display of every row (the ingest job finished or failed).
  void clearProgress();

  const memlong::DocumentInfo* document(int row) const;
  int rowOfDocument(qint64 docId) const;
  int totalDocuments() const { return static_cast<int>(m_docs.size()); }
  static QString statusText(memlong::DocumentStatus status);
  static QString progressText(const memlong::IngestProgress& p);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;

 private:
  struct Live {
    memlong::IngestProgress progress;
  };
  int rowOfPath(const QString& path) const;
  static QString baseName(const QString& path);

  std::vector<memlong::DocumentInfo> m_docs;
  int m_shown = 0;              // rows exposed so far (fetchMore)
  QHash<QString, Live> m_live;  // path -> latest progress of a file being ingested
};

}  // namespace memlong::ui
