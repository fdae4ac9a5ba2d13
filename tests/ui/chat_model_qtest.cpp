// ChatModel: an answer streams in piece by piece into one row; the final Answer replaces the text
// and brings its citations; late pieces after the end are dropped.
#include <QAbstractItemModelTester>
#include <QtTest>

#include "ui/chat_model.h"

using memlong::ui::ChatModel;

class ChatModelTest : public QObject {
  Q_OBJECT

 private slots:
  void streamsPiecesIntoOneRow() {
    ChatModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.beginExchange(QStringLiteral("Who is Anne?"));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(inserted.count(), 1);
    QVERIFY(model.isStreaming());
    const QStringList pieces = {QStringLiteral("Anne"), QStringLiteral(" Elliot"),
                                QStringLiteral(" is"), QStringLiteral(" Sir Walter's"),
                                QStringLiteral(" daughter.")};
    for (const QString& p : pieces) model.appendPiece(p);
    QCOMPARE(changed.count(), pieces.size());
    QCOMPARE(model.index(1).data(ChatModel::kTextRole).toString(),
             QStringLiteral("Anne Elliot is Sir Walter's daughter."));
    QCOMPARE(model.index(1).data(ChatModel::kStreamingRole).toBool(), true);
    QCOMPARE(model.index(0).data(ChatModel::kRoleRole).toString(), QStringLiteral("user"));

    memlong::Answer a;
    a.text = "Anne Elliot is Sir Walter's second daughter.";
    memlong::Citation c;
    c.passage.entry_id = 42;
    c.passage.doc_title = "Persuasion";
    a.citations = {c, c};
    model.finishAnswer(a);
    QVERIFY(!model.isStreaming());
    QCOMPARE(model.index(1).data().toString(), QString::fromStdString(a.text));
    QCOMPARE(model.index(1).data(ChatModel::kCitationCountRole).toInt(), 2);
    QCOMPARE(model.lastAnswerRow(), 1);
    model.appendPiece(QStringLiteral(" late"));
    QCOMPARE(model.index(1).data().toString(), QString::fromStdString(a.text));
  }

  void cancelledAndFailedAnswersKeepTheirText() {
    ChatModel model;
    model.beginExchange(QStringLiteral("q"));
    model.appendPiece(QStringLiteral("partial"));
    memlong::Answer a;  // stopped before the final text: the streamed text stays
    a.cancelled = true;
    model.finishAnswer(a);
    QCOMPARE(model.index(1).data().toString(), QStringLiteral("partial"));
    QVERIFY(model.index(1).data(ChatModel::kCancelledRole).toBool());

    model.beginExchange(QStringLiteral("q2"));
    model.failAnswer(QStringLiteral("(no answer: disk full)"));
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.index(3).data().toString(), QStringLiteral("(no answer: disk full)"));
    QVERIFY(!model.isStreaming());
  }

  void loadsAConversation() {
    ChatModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    std::vector<memlong::ConversationMessage> messages(3);
    messages[0].role = "user";
    messages[0].text = "Hello";
    messages[1].role = "assistant";
    messages[1].text = "안녕하세요";
    messages[1].citations.resize(1);
    messages[2].role = "user";
    messages[2].text = "Again";
    model.setConversation(messages);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(1).data().toString(), QStringLiteral("안녕하세요"));
    QCOMPARE(model.index(1).data(ChatModel::kCitationCountRole).toInt(), 1);
    QCOMPARE(model.lastAnswerRow(), 1);
    QVERIFY(!model.isStreaming());
    model.appendPiece(QStringLiteral("ignored"));
    QCOMPARE(model.index(2).data().toString(), QStringLiteral("Again"));
  }
};

QTEST_MAIN(ChatModelTest)
#include "chat_model_qtest.moc"
