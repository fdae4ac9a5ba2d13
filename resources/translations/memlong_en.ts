<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>ErrorText</name>
    <message>
        <source>Check the value you entered, or the settings (Edit ▸ Settings).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Get the default models with scripts/setup (or memlong-fetch-models), or choose a model file in Edit ▸ Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Check that the file or item still exists, then try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The file is damaged or not in the expected format: get a fresh copy of it, or remove it from the library.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This version of MemLong does not have this feature yet; update MemLong to use it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This file type or setting is not supported; convert the file (for example to EPUB, PDF or plain text) or change the setting.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Check free disk space and that the library folder is writable (Edit ▸ Settings shows it).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close other programs, lower the memory size or the thread count in Edit ▸ Settings, or choose the CPU device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is a bug in MemLong. Please report it with the message above; restarting the app usually helps meanwhile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::ConversationView</name>
    <message>
        <source>Ask about your books… (Ctrl+Enter to ask)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Ask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop the answer (Esc)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Double-click a citation to open the passage in the Reader</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Citations of the latest answer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>retrieved text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no context</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 tokens in, %2 out · first token after %3 s · %4 tok/s · mode: %5%6</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MemLong</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask a question about the books in this session. Answers cite the passages they use; double-click a citation to read it in context.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>, page %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>score %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::EngineWorker</name>
    <message>
        <source>Opening the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Closing the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Listing the library</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adding documents</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading a document again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removing a document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opening a document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Searching</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answering</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Summarizing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Listing sessions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting a session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading a session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Forking a session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Renaming a session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deleting a session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exporting a session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Importing a session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading the conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the memory map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving a file</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::LibraryModel</name>
    <message>
        <source>Waiting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ready</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parsing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 tok/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Title</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Progress</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Format</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::LibraryView</name>
    <message>
        <source>Add &amp;files…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add f&amp;older…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read &amp;again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove the selected document from the library (Delete)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the selected document&apos;s file again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drop books here (EPUB, PDF, DOCX, HTML, Markdown, text), or use Add files.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add books</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Books and documents (*.epub *.pdf *.docx *.html *.htm *.xhtml *.md *.markdown *.txt);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add a folder of books</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Res&amp;ume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File %1 of %2: %3</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::MainWindow</name>
    <message>
        <source>MemLong</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MemLong needs its model files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Try again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>To get the default models, run in a terminal:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Library</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;onversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Reader</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;essions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Su&amp;mmarize</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add &amp;files…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add f&amp;older…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Import session…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Export session…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Find in document</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Find &amp;next</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Find &amp;previous</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Library</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reader</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sessions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Summarize</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Ask a question</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;New session…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About MemLong</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About MemLong</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;MemLong %1&lt;/h3&gt;&lt;p&gt;Ask questions about your books on your own computer. Long-context memory after MemLong (arXiv 2408.16967).&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(no answer: %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added %1, unchanged %2, failed %3 (%4 tokens in %5 s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adding documents</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session exported to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Retriever: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory: %1 / %2 tokens (%3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 tok/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MemLong — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your library is empty. Add a sample book (the first chapters of Jane Austen&apos;s Persuasion, public domain) to try MemLong, or drop your own books on the Library.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add the sample book</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adding the sample book</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the sample book is missing from this build</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Imported the session “%1”; load it from the Sessions tab</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::MemoryView</name>
    <message>
        <source>No memory yet: add a book in the Library and it appears here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>in memory, never retrieved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>retrieved most</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>evicted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cited by the answer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens %1–%2, retrieved %3 time(s), %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>in memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 tokens · %2 entries · %3 evicted</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::ReaderView</name>
    <message>
        <source>Open a document from the Library (double-click) or a citation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Find in document (Ctrl+F)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Previous</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Next</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chapter:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Section %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not found</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::SessionModel</name>
    <message>
        <source>%1  —  documents: %2, messages: %3, updated %4</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::SessionsView</name>
    <message>
        <source>&amp;New…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Load</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Fork…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Rename…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Export…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Import…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Make the selected session the current one (its books, memory and conversation)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy the selected session under a new name and continue there</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fork session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name of the copy:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (copy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rename session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is the current session. Load or start another session first, then delete this one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete the session “%1” and its conversation? The books stay in the library.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MemLong sessions (*.memlong-session);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import session</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic (GPU when available)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CUDA GPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>One per core (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> k tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How many tokens of your books the session&apos;s memory keeps before it evicts entries</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Passages (memory entries) retrieved for each question</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zero (memory at position 0)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contiguous</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Least retrieved first (counter)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Oldest half first (FIFO)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Retrieved text in the prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MemLong memory attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No context (model only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model file:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Models (*.gguf *.safetensors);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Retriever:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a retriever</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Retrievers (*.bin);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Library folder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the library folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Threads:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-k:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory entry size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Position mode:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Eviction policy:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answer mode:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answer length:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Changing the model, device or memory settings reloads the model; your library and sessions are kept. The language applies at the next start.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>memlong::ui::SummarizeView</name>
    <message>
        <source>Whole book</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chapters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Summarize</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Export Markdown…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The summary appears here. Summaries are also saved in the session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Book:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Range:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Markdown (*.md);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Summarizing the whole book</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chapter %1 of %2: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 tok/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped; the part done so far is shown.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
