// memlong-desktop: the Qt 6 desktop app. Parses its own options (before Qt, so --help and
// --version work without a display), refuses to start without a display unless a Qt platform is
// chosen (the run script then falls back to the CLI), installs the translations, and shows the
// MainWindow, which opens the Assistant on its engine thread.
#include <QApplication>
#include <QDir>
#include <QIcon>
#include <QLibraryInfo>
#include <QLocale>
#include <QSettings>
#include <QTimer>
#include <QTranslator>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ui/error_text.h"
#include "ui/main_window.h"
#include "ui/screenshot_tour.h"
#include "ui/settings.h"

namespace {

constexpr const char* kUsage =
    "Usage: memlong-desktop [options] [Qt options]\n"
    "Ask questions about your books: the MemLong desktop app.\n"
    "\n"
    "Options:\n"
    "  -h, --help          Show this help and exit.\n"
    "  -v, --version       Show the version and exit.\n"
    "  --library DIR       Use the library in DIR for this run (default: the saved setting,\n"
    "                      else $MEMLONG_LIBRARY_DIR or ~/.local/share/memlong/library).\n"
    "  --model PATH        Use the model file PATH for this run (default: the saved setting,\n"
    "                      else the default model in ~/.local/share/memlong/models).\n"
    "  --smoke-test        Load the model, print whether it worked, and exit (0 = ready).\n"
    "  --screenshots DIR   Add the sample book if the library is empty, ask --question,\n"
    "                      save a PNG of each view in DIR, and exit.\n"
    "  --question TEXT     The question asked for --screenshots.\n"
    "\n"
    "Qt options such as -platform offscreen or -style Fusion are passed to Qt.\n"
    "Without a display (no DISPLAY or WAYLAND_DISPLAY) the app needs -platform or\n"
    "QT_QPA_PLATFORM; use the command-line tool `memlong` instead on such machines.\n";

bool hasEnv(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

struct Options {
  QString library;
  QString model;
  QString screenshots;
  QString question = QStringLiteral("Who is Sir Walter Elliot, and what does he read?");
  bool smokeTest = false;
  bool platformGiven = false;
};

// Returns -1 to continue, else the exit code.
int parseOptions(int argc, char** argv, Options* out) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& name, QString* dst) -> bool {
      if (a == name) {
        if (i + 1 >= argc) {
          std::fprintf(stderr, "memlong-desktop: %s needs a value (see --help)\n", name.c_str());
          return false;
        }
        *dst = QString::fromLocal8Bit(argv[++i]);
        return true;
      }
      *dst = QString::fromLocal8Bit(a.substr(name.size() + 1).c_str());
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "-v" || a == "--version") {
      std::printf("memlong-desktop %s\n", MEMLONG_VERSION);
      return 0;
    }
    if (a == "--library" || a.rfind("--library=", 0) == 0) {
      if (!value("--library", &out->library)) return 2;
    } else if (a == "--model" || a.rfind("--model=", 0) == 0) {
      if (!value("--model", &out->model)) return 2;
    } else if (a == "--screenshots" || a.rfind("--screenshots=", 0) == 0) {
      if (!value("--screenshots", &out->screenshots)) return 2;
    } else if (a == "--question" || a.rfind("--question=", 0) == 0) {
      if (!value("--question", &out->question)) return 2;
    } else if (a == "--smoke-test") {
      out->smokeTest = true;
    } else if (a == "-platform" || a == "--platform" || a.rfind("-platform=", 0) == 0) {
      out->platformGiven = true;
    } else if (a.rfind("--", 0) == 0 && a != "--style" && a.rfind("--style=", 0) != 0) {
      std::fprintf(stderr, "memlong-desktop: unknown option %s (see --help)\n", a.c_str());
      return 2;
    }
  }
  return -1;
}

void installTranslations(QApplication& app, const QString& language) {
  const QLocale locale = language.isEmpty() ? QLocale::system() : QLocale(language);
  auto* qt = new QTranslator(&app);
  if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
               QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    app.installTranslator(qt);
  }
  auto* ours = new QTranslator(&app);
  if (ours->load(locale, QStringLiteral("memlong"), QStringLiteral("_"),
                 QStringLiteral(":/memlong/i18n"))) {
    app.installTranslator(ours);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const int rc = parseOptions(argc, argv, &options); rc >= 0) return rc;
  if (!options.platformGiven && !hasEnv("QT_QPA_PLATFORM") && !hasEnv("DISPLAY") &&
      !hasEnv("WAYLAND_DISPLAY")) {
    std::fputs(
        "memlong-desktop: no display found (DISPLAY and WAYLAND_DISPLAY are not set).\n"
        "Run it in a desktop session, or use the command-line tool instead, for example:\n"
        "  memlong --help\n"
        "(To run the window without a screen, e.g. for tests: memlong-desktop -platform "
        "offscreen)\n",
        stderr);
    return 3;
  }

  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName(QStringLiteral("memlong"));
  QCoreApplication::setApplicationName(QStringLiteral("memlong-desktop"));
  QCoreApplication::setApplicationVersion(QStringLiteral(MEMLONG_VERSION));
  QGuiApplication::setApplicationDisplayName(QStringLiteral("MemLong"));
  QGuiApplication::setDesktopFileName(QStringLiteral("memlong-desktop"));
  QIcon icon(QStringLiteral(":/memlong/icons/memlong.svg"));
  for (int size : {16, 32, 48, 64, 128, 256})
    icon.addFile(QStringLiteral(":/memlong/icons/memlong-%1.png").arg(size), QSize(size, size));
  QApplication::setWindowIcon(icon);

  QSettings store;
  memlong::ui::AppSettings settings = memlong::ui::loadSettings(store);
  installTranslations(app, settings.language);
  // Command-line choices apply to this run only (the Settings dialog saves its own).
  if (!options.library.isEmpty()) settings.libraryDir = QDir(options.library).absolutePath();
  if (!options.model.isEmpty())
    settings.modelPath = QDir::current().absoluteFilePath(options.model);

  memlong::ui::MainWindow window(settings);
  if (options.smokeTest) {
    QObject::connect(&window, &memlong::ui::MainWindow::engineReady, &app, [&] {
      const auto& s = window.assistantStatus();
      std::printf("memlong-desktop: ready: model %s on %s\n", s.model_name.c_str(),
                  s.device.c_str());
      QTimer::singleShot(0, &app, [] { QCoreApplication::exit(0); });
    });
    QObject::connect(&window, &memlong::ui::MainWindow::errorShown, &app, [&](const QString& text) {
      if (window.page() != memlong::ui::MainWindow::Page::kSetup) return;
      std::fprintf(stderr, "memlong-desktop: cannot load the model:\n%s\n", qPrintable(text));
      QTimer::singleShot(0, &app, [] { QCoreApplication::exit(1); });
    });
  }
  memlong::ui::ScreenshotTour tour(&window, options.screenshots, options.question);
  if (!options.screenshots.isEmpty()) {
    QObject::connect(&tour, &memlong::ui::ScreenshotTour::finished, &app,
                     [](int code) { QCoreApplication::exit(code); });
    tour.start();
  }
  window.show();
  window.start();
  return app.exec();
}
