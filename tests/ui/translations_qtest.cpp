// Translations: the Korean .qm built by CMake is compiled in under :/memlong/i18n and translates
// the views' strings (contexts match the namespaced class names); English needs no catalogue.
#include <QCoreApplication>
#include <QTranslator>
#include <QtTest>

#include "ui/error_text.h"
#include "ui/library_model.h"

class TranslationsTest : public QObject {
  Q_OBJECT

 private slots:
  void koreanCatalogueTranslatesTheViews() {
    QTranslator ko;
    QVERIFY(ko.load(QStringLiteral(":/memlong/i18n/memlong_ko.qm")));
    QVERIFY(QCoreApplication::installTranslator(&ko));
    QCOMPARE(memlong::ui::LibraryModel::statusText(memlong::DocumentStatus::kReady),
             QStringLiteral("준비됨"));
    QCOMPARE(memlong::ui::LibraryModel()
                 .headerData(memlong::ui::LibraryModel::kTitle, Qt::Horizontal, Qt::DisplayRole)
                 .toString(),
             QStringLiteral("제목"));
    QVERIFY(memlong::ui::ErrorText::hint(memlong::StatusCode::kIoError, {})
                .contains(QStringLiteral("디스크")));
    QCoreApplication::removeTranslator(&ko);
    QCOMPARE(memlong::ui::LibraryModel::statusText(memlong::DocumentStatus::kReady),
             QStringLiteral("Ready"));
  }

  void englishCatalogueLoads() {
    QTranslator en;
    QVERIFY(en.load(QStringLiteral(":/memlong/i18n/memlong_en.qm")));
  }
};

QTEST_MAIN(TranslationsTest)
#include "translations_qtest.moc"
