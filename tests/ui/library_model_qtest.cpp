// LibraryModel: rows from DocumentInfo lists in fetchMore batches, live ingestion progress matched
// by path (percent, speed, time left), pending rows for files the store does not list yet.
#include <QAbstractItemModelTester>
#include <QLocale>
#include <QtTest>

#include "ui/library_model.h"

using memlong::DocumentInfo;
using memlong::DocumentStatus;
using memlong::IngestProgress;
using memlong::IngestStage;
using memlong::ui::LibraryModel;

namespace {
std::vector<DocumentInfo> makeDocs(int n) {
  std::vector<DocumentInfo> docs;
  for (int i = 0; i < n; ++i) {
    DocumentInfo d;
    d.id = i + 1;
    d.path = "/books/book" + std::to_string(i) + ".epub";
    d.title = "Book " + std::to_string(i);
    d.format = "epub";
    d.status = DocumentStatus::kReady;
    d.n_tokens = 1000 * (i + 1);
    docs.push_back(d);
  }
  return docs;
}
}  // namespace

class LibraryModelTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates)); }

  // (No QAbstractItemModelTester here: it calls fetchMore itself while checking a reset.)
  void rowsComeInBatches() {
    LibraryModel model;
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.setDocuments(makeDocs(600));
    QCOMPARE(model.totalDocuments(), 600);
    QCOMPARE(model.rowCount(), LibraryModel::kBatchSize);
    QVERIFY(model.canFetchMore({}));
    model.fetchMore({});
    QCOMPARE(model.rowCount(), 2 * LibraryModel::kBatchSize);
    QCOMPARE(inserted.count(), 1);
    model.fetchMore({});
    QCOMPARE(model.rowCount(), 600);
    QVERIFY(!model.canFetchMore({}));
    QCOMPARE(model.index(599, LibraryModel::kTitle).data().toString(), QStringLiteral("Book 599"));
    QCOMPARE(model.index(599, 0).data(LibraryModel::kDocIdRole).toLongLong(), 600);
    QCOMPARE(model.index(2, LibraryModel::kTokens).data().toString(), QStringLiteral("3,000"));
    QCOMPARE(model.index(2, LibraryModel::kStatus).data().toString(), QStringLiteral("Ready"));
    QCOMPARE(model.rowOfDocument(17), 16);
  }

  void passesTheModelTester() {
    LibraryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setDocuments(makeDocs(40));
    QCOMPARE(model.rowCount(), 40);
    model.setDocuments({});
    QCOMPARE(model.rowCount(), 0);
  }

  void progressOfAKnownDocument() {
    LibraryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setDocuments(makeDocs(3));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    IngestProgress p;
    p.path = "/books/book1.epub";
    p.stage = IngestStage::kReading;
    p.n_files = 1;
    p.chunks_done = 5;
    p.chunks_total = 20;
    p.tokens_per_s = 1234.0;
    p.eta_s = 72.0;
    model.applyProgress(p);
    QCOMPARE(changed.count(), 1);
    const QModelIndex i = model.index(1, LibraryModel::kProgress);
    QCOMPARE(i.data(LibraryModel::kProgressRole).toInt(), 25);
    QCOMPARE(i.data(LibraryModel::kSpeedRole).toDouble(), 1234.0);
    QCOMPARE(i.data(LibraryModel::kEtaRole).toDouble(), 72.0);
    QCOMPARE(i.data(LibraryModel::kProgressTextRole).toString(),
             QStringLiteral("25% · 1,234 tok/s · 1:12 left"));
    QCOMPARE(model.index(1, LibraryModel::kStatus).data().toString(), QStringLiteral("Reading"));
    // Other rows show no progress.
    QCOMPARE(model.index(0, LibraryModel::kProgress).data(LibraryModel::kProgressRole).toInt(), -1);

    p.stage = IngestStage::kDone;
    p.chunks_done = 20;
    model.applyProgress(p);
    QCOMPARE(i.data(LibraryModel::kProgressRole).toInt(), -1);
    QCOMPARE(model.index(1, LibraryModel::kStatus).data().toString(), QStringLiteral("Ready"));
  }

  void unknownFileBecomesPendingRowAndKeepsItsProgress() {
    LibraryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setDocuments(makeDocs(2));
    IngestProgress p;
    p.path = "/new/Emma.txt";
    p.stage = IngestStage::kParsing;
    model.applyProgress(p);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(2, LibraryModel::kTitle).data().toString(), QStringLiteral("Emma.txt"));
    QCOMPARE(model.index(2, LibraryModel::kProgress).data().toString(), QStringLiteral("Parsing"));
    // A refresh from the store that does not list it yet keeps the pending row.
    model.setDocuments(makeDocs(2));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(2, 0).data(LibraryModel::kPathRole).toString(),
             QStringLiteral("/new/Emma.txt"));
    // Failure: the row says why.
    p.stage = IngestStage::kFailed;
    p.message = "not a text file";
    model.applyProgress(p);
    QCOMPARE(model.index(2, LibraryModel::kStatus).data().toString(), QStringLiteral("Failed"));
    QCOMPARE(model.index(2, LibraryModel::kTitle).data(Qt::ToolTipRole).toString(),
             QStringLiteral("not a text file"));
    model.clearProgress();
    QCOMPARE(model.index(2, 0).data(LibraryModel::kProgressRole).toInt(), -1);
  }

  void progressTextWithoutSpeedOrEta() {
    IngestProgress p;
    p.stage = IngestStage::kReading;
    p.chunks_done = 1;
    p.chunks_total = 3;
    QCOMPARE(LibraryModel::progressText(p), QStringLiteral("33%"));
    p.eta_s = 3725;
    QCOMPARE(LibraryModel::progressText(p), QStringLiteral("33% · 1:02:05 left"));
  }
};

QTEST_MAIN(LibraryModelTest)
#include "library_model_qtest.moc"
