// ReaderView: the Reader tab. Shows one document's text (DocumentText) section by section, with the
// chunks cited by the current answer highlighted strongly and the other retrieved chunks lightly;
// a chapter list to jump between sections; and find (Ctrl+F, F3 / Shift+F3 for next / previous).
// Chunk spans arrive as UTF-8 byte offsets inside their section; they are mapped to positions in
// the QTextDocument here.
// Thread-safety: GUI thread only (it is a widget).
#pragma once

#include <QHash>
#include <QSet>
#include <QWidget>

#include "core/assistant/assistant_types.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace memlong::ui {

class ReaderView : public QWidget {
  Q_OBJECT

 public:
  explicit ReaderView(QWidget* parent = nullptr);

  void setDocument(const memlong::DocumentText& text);
  qint64 documentId() const { return m_docId; }
  // Cited entries get the strong highlight, retrieved ones the light one.
  void setHighlights(const QSet<qint64>& cited, const QSet<qint64>& retrieved);
  // Scrolls to an entry's chunk (no-op when the document lacks it); returns whether it was found.
  bool showEntry(qint64 entryId);
  void showSection(int ordinal);
  // Character range [begin, end) of an entry in the shown text, or {-1, -1}.
  QPair<int, int> entryRange(qint64 entryId) const;
  QString text() const;
  int highlightCount() const;

 public slots:
  void focusFind();
  bool findNext();
  bool findPrevious();

 private:
  void applyHighlights();

  qint64 m_docId = 0;
  QPlainTextEdit* m_text;
  QComboBox* m_chapters;
  QLineEdit* m_find;
  QLabel* m_title;
  QLabel* m_findStatus;
  QVector<int> m_sectionStart;              // position of each section's heading
  QHash<qint64, QPair<int, int>> m_chunks;  // entry id -> [begin, end) in the document
  QSet<qint64> m_cited;
  QSet<qint64> m_retrieved;
};

}  // namespace memlong::ui
