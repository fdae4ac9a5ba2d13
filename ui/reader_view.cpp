#include "ui/reader_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextBlock>
#include <QVBoxLayout>

#include "ui/qt_types.h"

namespace memlong::ui {

ReaderView::ReaderView(QWidget* parent) : QWidget(parent) {
  m_title = new QLabel(tr("Open a document from the Library (double-click) or a citation."), this);
  m_title->setWordWrap(true);
  m_chapters = new QComboBox(this);
  m_chapters->setObjectName(QStringLiteral("chapterCombo"));
  m_chapters->setMinimumContentsLength(24);
  m_chapters->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  m_text = new QPlainTextEdit(this);
  m_text->setObjectName(QStringLiteral("readerText"));
  m_text->setReadOnly(true);
  m_text->setLineWrapMode(QPlainTextEdit::WidgetWidth);
  m_find = new QLineEdit(this);
  m_find->setObjectName(QStringLiteral("findEdit"));
  m_find->setPlaceholderText(tr("Find in document (Ctrl+F)"));
  m_find->setClearButtonEnabled(true);
  auto* prev = new QPushButton(tr("Previous"), this);
  auto* next = new QPushButton(tr("Next"), this);
  m_findStatus = new QLabel(this);

  auto* top = new QHBoxLayout;
  top->addWidget(m_title, 1);
  top->addWidget(new QLabel(tr("Chapter:"), this));
  top->addWidget(m_chapters);
  auto* bottom = new QHBoxLayout;
  bottom->addWidget(m_find, 1);
  bottom->addWidget(prev);
  bottom->addWidget(next);
  bottom->addWidget(m_findStatus);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(m_text, 1);
  layout->addLayout(bottom);

  connect(m_chapters, &QComboBox::activated, this, &ReaderView::showSection);
  connect(m_find, &QLineEdit::returnPressed, this, &ReaderView::findNext);
  connect(next, &QPushButton::clicked, this, &ReaderView::findNext);
  connect(prev, &QPushButton::clicked, this, &ReaderView::findPrevious);
}

void ReaderView::setDocument(const memlong::DocumentText& doc) {
  m_docId = doc.info.id;
  QString title = qstr(doc.info.title);
  if (!doc.info.author.empty()) title += QStringLiteral(" — ") + qstr(doc.info.author);
  m_title->setText(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped()));
  m_chapters->clear();
  m_sectionStart.clear();
  m_chunks.clear();
  // Build the text; remember where each section's body starts to place the chunks.
  QString all;
  QVector<int> bodyStart;
  QVector<QByteArray> bodies;
  for (size_t i = 0; i < doc.sections.size(); ++i) {
    const auto& s = doc.sections[i];
    m_sectionStart.push_back(static_cast<int>(all.size()));
    const QString heading = s.title.empty() ? tr("Section %1").arg(i + 1) : qstr(s.title);
    m_chapters->addItem(QString(std::max(0, s.level - 1) * 2, QLatin1Char(' ')) + heading);
    all += heading + QStringLiteral("\n\n");
    bodyStart.push_back(static_cast<int>(all.size()));
    bodies.push_back(QByteArray(s.text.data(), static_cast<qsizetype>(s.text.size())));
    all += qstr(s.text) + QStringLiteral("\n\n");
  }
  for (const auto& c : doc.chunks) {
    if (c.section_ordinal < 0 || c.section_ordinal >= bodies.size()) continue;
    const QByteArray& body = bodies[c.section_ordinal];
    const qsizetype b = std::clamp<qsizetype>(c.char_begin, 0, body.size());
    const qsizetype e = std::clamp<qsizetype>(c.char_end, b, body.size());
    // Byte offsets -> UTF-16 positions.
    const int begin = bodyStart[c.section_ordinal] +
                      static_cast<int>(QString::fromUtf8(body.constData(), b).size());
    const int end = begin + static_cast<int>(QString::fromUtf8(body.constData() + b, e - b).size());
    m_chunks.insert(c.entry_id, {begin, end});
  }
  m_text->setPlainText(all);
  for (int i = 0; i < m_sectionStart.size(); ++i) {
    // Headings in bold.
    QTextCursor cur(m_text->document());
    cur.setPosition(m_sectionStart[i]);
    cur.movePosition(QTextCursor::EndOfBlock, QTextCursor::KeepAnchor);
    QTextCharFormat f;
    f.setFontWeight(QFont::Bold);
    f.setFontPointSize(m_text->font().pointSizeF() * 1.2);
    cur.mergeCharFormat(f);
  }
  applyHighlights();
}

void ReaderView::setHighlights(const QSet<qint64>& cited, const QSet<qint64>& retrieved) {
  m_cited = cited;
  m_retrieved = retrieved;
  applyHighlights();
}

int ReaderView::highlightCount() const {
  return static_cast<int>(m_text->extraSelections().size());
}

QPair<int, int> ReaderView::entryRange(qint64 entryId) const {
  return m_chunks.value(entryId, {-1, -1});
}

QString ReaderView::text() const {
  return m_text->toPlainText();
}

void ReaderView::applyHighlights() {
  // Colours that read on light and dark palettes: a translucent tint of the highlight colour.
  QColor strong = palette().color(QPalette::Highlight);
  strong.setAlpha(110);
  QColor light = palette().color(QPalette::Highlight);
  light.setAlpha(40);
  QList<QTextEdit::ExtraSelection> selections;
  for (auto it = m_chunks.cbegin(); it != m_chunks.cend(); ++it) {
    const bool cited = m_cited.contains(it.key());
    if (!cited && !m_retrieved.contains(it.key())) continue;
    QTextEdit::ExtraSelection sel;
    sel.cursor = QTextCursor(m_text->document());
    sel.cursor.setPosition(it.value().first);
    sel.cursor.setPosition(it.value().second, QTextCursor::KeepAnchor);
    sel.format.setBackground(cited ? strong : light);
    selections << sel;
  }
  m_text->setExtraSelections(selections);
}

bool ReaderView::showEntry(qint64 entryId) {
  const auto range = entryRange(entryId);
  if (range.first < 0) return false;
  QTextCursor cur(m_text->document());
  cur.setPosition(range.second);
  m_text->setTextCursor(cur);
  m_text->ensureCursorVisible();
  cur.setPosition(range.first);
  m_text->setTextCursor(cur);
  m_text->ensureCursorVisible();
  for (int i = m_sectionStart.size() - 1; i >= 0; --i) {
    if (m_sectionStart[i] <= range.first) {
      m_chapters->setCurrentIndex(i);
      break;
    }
  }
  return true;
}

void ReaderView::showSection(int ordinal) {
  if (ordinal < 0 || ordinal >= m_sectionStart.size()) return;
  QTextCursor cur(m_text->document());
  cur.movePosition(QTextCursor::End);
  m_text->setTextCursor(cur);  // so the heading ends up at the top
  cur.setPosition(m_sectionStart[ordinal]);
  m_text->setTextCursor(cur);
  m_text->ensureCursorVisible();
  m_chapters->setCurrentIndex(ordinal);
}

void ReaderView::focusFind() {
  m_find->setFocus();
  m_find->selectAll();
}

bool ReaderView::findNext() {
  if (m_find->text().isEmpty()) return false;
  bool found = m_text->find(m_find->text());
  if (!found) {  // wrap around
    m_text->moveCursor(QTextCursor::Start);
    found = m_text->find(m_find->text());
  }
  m_findStatus->setText(found ? QString() : tr("Not found"));
  return found;
}

bool ReaderView::findPrevious() {
  if (m_find->text().isEmpty()) return false;
  bool found = m_text->find(m_find->text(), QTextDocument::FindBackward);
  if (!found) {
    m_text->moveCursor(QTextCursor::End);
    found = m_text->find(m_find->text(), QTextDocument::FindBackward);
  }
  m_findStatus->setText(found ? QString() : tr("Not found"));
  return found;
}

}  // namespace memlong::ui
