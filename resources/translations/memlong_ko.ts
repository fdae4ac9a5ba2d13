<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR">
<context>
    <name>ErrorText</name>
    <message>
        <source>Check the value you entered, or the settings (Edit ▸ Settings).</source>
        <translation>입력한 값이나 설정(편집 ▸ 설정)을 확인하세요.</translation>
    </message>
    <message>
        <source>Get the default models with scripts/setup (or memlong-fetch-models), or choose a model file in Edit ▸ Settings.</source>
        <translation>scripts/setup(또는 memlong-fetch-models)으로 기본 모델을 받거나, 편집 ▸ 설정에서 모델 파일을 선택하세요.</translation>
    </message>
    <message>
        <source>Check that the file or item still exists, then try again.</source>
        <translation>파일이나 항목이 아직 있는지 확인한 뒤 다시 시도하세요.</translation>
    </message>
    <message>
        <source>The file is damaged or not in the expected format: get a fresh copy of it, or remove it from the library.</source>
        <translation>파일이 손상되었거나 형식이 맞지 않습니다. 새 사본을 받거나 서재에서 삭제하세요.</translation>
    </message>
    <message>
        <source>This version of MemLong does not have this feature yet; update MemLong to use it.</source>
        <translation>이 버전의 MemLong에는 아직 이 기능이 없습니다. 사용하려면 MemLong을 업데이트하세요.</translation>
    </message>
    <message>
        <source>This file type or setting is not supported; convert the file (for example to EPUB, PDF or plain text) or change the setting.</source>
        <translation>지원하지 않는 파일 형식이나 설정입니다. 파일을 변환하거나(예: EPUB, PDF, 일반 텍스트) 설정을 바꾸세요.</translation>
    </message>
    <message>
        <source>Check free disk space and that the library folder is writable (Edit ▸ Settings shows it).</source>
        <translation>디스크 여유 공간과 서재 폴더의 쓰기 권한을 확인하세요(편집 ▸ 설정에 폴더가 표시됩니다).</translation>
    </message>
    <message>
        <source>Close other programs, lower the memory size or the thread count in Edit ▸ Settings, or choose the CPU device.</source>
        <translation>다른 프로그램을 닫거나, 편집 ▸ 설정에서 메모리 크기나 스레드 수를 줄이거나, CPU 장치를 선택하세요.</translation>
    </message>
    <message>
        <source>This is a bug in MemLong. Please report it with the message above; restarting the app usually helps meanwhile.</source>
        <translation>MemLong의 버그입니다. 위 메시지와 함께 알려 주세요. 그동안은 앱을 다시 시작하면 대개 해결됩니다.</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1 실패: %2</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>Browse…</source>
        <translation>찾아보기…</translation>
    </message>
</context>
<context>
    <name>memlong::ui::ConversationView</name>
    <message>
        <source>Ask about your books… (Ctrl+Enter to ask)</source>
        <translation>책에 대해 물어보세요… (Ctrl+Enter로 질문)</translation>
    </message>
    <message>
        <source>&amp;Ask</source>
        <translation>질문(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>중지(&amp;S)</translation>
    </message>
    <message>
        <source>Stop the answer (Esc)</source>
        <translation>답변 중지 (Esc)</translation>
    </message>
    <message>
        <source>Double-click a citation to open the passage in the Reader</source>
        <translation>인용을 두 번 클릭하면 읽기 화면에서 해당 구절이 열립니다</translation>
    </message>
    <message>
        <source>Citations of the latest answer</source>
        <translation>최근 답변의 인용</translation>
    </message>
    <message>
        <source>memory</source>
        <translation>메모리</translation>
    </message>
    <message>
        <source>retrieved text</source>
        <translation>검색된 텍스트</translation>
    </message>
    <message>
        <source>no context</source>
        <translation>맥락 없음</translation>
    </message>
    <message>
        <source>%1 tokens in, %2 out · first token after %3 s · %4 tok/s · mode: %5%6</source>
        <translation>입력 %1 토큰, 출력 %2 토큰 · 첫 토큰 %3초 · %4 토큰/초 · 방식: %5%6</translation>
    </message>
    <message>
        <source> · stopped</source>
        <translation> · 중지됨</translation>
    </message>
    <message>
        <source>You</source>
        <translation>나</translation>
    </message>
    <message>
        <source>MemLong</source>
        <translation>MemLong</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>중지됨</translation>
    </message>
    <message>
        <source>Ask a question about the books in this session. Answers cite the passages they use; double-click a citation to read it in context.</source>
        <translation>이 세션의 책에 대해 질문하세요. 답변은 사용한 구절을 인용합니다. 인용을 두 번 클릭하면 문맥 속에서 읽을 수 있습니다.</translation>
    </message>
    <message>
        <source>, page %1</source>
        <translation>, %1쪽</translation>
    </message>
    <message>
        <source>score %1</source>
        <translation>점수 %1</translation>
    </message>
</context>
<context>
    <name>memlong::ui::EngineWorker</name>
    <message>
        <source>Opening the model</source>
        <translation>모델 여는 중</translation>
    </message>
    <message>
        <source>Closing the model</source>
        <translation>모델 닫는 중</translation>
    </message>
    <message>
        <source>Reading the status</source>
        <translation>상태 읽는 중</translation>
    </message>
    <message>
        <source>Listing the library</source>
        <translation>서재 목록 읽는 중</translation>
    </message>
    <message>
        <source>Adding documents</source>
        <translation>문서 추가</translation>
    </message>
    <message>
        <source>Reading a document again</source>
        <translation>문서 다시 읽기</translation>
    </message>
    <message>
        <source>Removing a document</source>
        <translation>문서 삭제</translation>
    </message>
    <message>
        <source>Opening a document</source>
        <translation>문서 열기</translation>
    </message>
    <message>
        <source>Searching</source>
        <translation>검색</translation>
    </message>
    <message>
        <source>Answering</source>
        <translation>답변 생성</translation>
    </message>
    <message>
        <source>Summarizing</source>
        <translation>요약</translation>
    </message>
    <message>
        <source>Listing sessions</source>
        <translation>세션 목록 읽기</translation>
    </message>
    <message>
        <source>Starting a session</source>
        <translation>세션 시작</translation>
    </message>
    <message>
        <source>Loading a session</source>
        <translation>세션 불러오기</translation>
    </message>
    <message>
        <source>Forking a session</source>
        <translation>세션 복제</translation>
    </message>
    <message>
        <source>Renaming a session</source>
        <translation>세션 이름 변경</translation>
    </message>
    <message>
        <source>Deleting a session</source>
        <translation>세션 삭제</translation>
    </message>
    <message>
        <source>Exporting a session</source>
        <translation>세션 내보내기</translation>
    </message>
    <message>
        <source>Importing a session</source>
        <translation>세션 가져오기</translation>
    </message>
    <message>
        <source>Loading the conversation</source>
        <translation>대화 불러오기</translation>
    </message>
    <message>
        <source>Reading the memory map</source>
        <translation>메모리 지도 읽기</translation>
    </message>
    <message>
        <source>Saving a file</source>
        <translation>파일 저장</translation>
    </message>
</context>
<context>
    <name>memlong::ui::LibraryModel</name>
    <message>
        <source>Waiting</source>
        <translation>대기 중</translation>
    </message>
    <message>
        <source>Reading</source>
        <translation>읽는 중</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>준비됨</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>실패</translation>
    </message>
    <message>
        <source>Parsing</source>
        <translation>분석 중</translation>
    </message>
    <message>
        <source>Saving</source>
        <translation>저장 중</translation>
    </message>
    <message>
        <source>%1 tok/s</source>
        <translation>%1 토큰/초</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>%1 남음</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>완료</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>제목</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>진행</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>토큰</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>형식</translation>
    </message>
    <message>
        <source>File</source>
        <translation>파일</translation>
    </message>
</context>
<context>
    <name>memlong::ui::LibraryView</name>
    <message>
        <source>Add &amp;files…</source>
        <translation>파일 추가(&amp;F)…</translation>
    </message>
    <message>
        <source>Add f&amp;older…</source>
        <translation>폴더 추가(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>삭제(&amp;R)</translation>
    </message>
    <message>
        <source>Read &amp;again</source>
        <translation>다시 읽기(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>일시 정지(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>취소(&amp;C)</translation>
    </message>
    <message>
        <source>Remove the selected document from the library (Delete)</source>
        <translation>선택한 문서를 서재에서 삭제 (Delete)</translation>
    </message>
    <message>
        <source>Read the selected document&apos;s file again</source>
        <translation>선택한 문서의 파일을 다시 읽기</translation>
    </message>
    <message>
        <source>Drop books here (EPUB, PDF, DOCX, HTML, Markdown, text), or use Add files.</source>
        <translation>여기에 책을 끌어다 놓거나(EPUB, PDF, DOCX, HTML, Markdown, 텍스트) 파일 추가를 사용하세요.</translation>
    </message>
    <message>
        <source>Add books</source>
        <translation>책 추가</translation>
    </message>
    <message>
        <source>Books and documents (*.epub *.pdf *.docx *.html *.htm *.xhtml *.md *.markdown *.txt);;All files (*)</source>
        <translation>책과 문서 (*.epub *.pdf *.docx *.html *.htm *.xhtml *.md *.markdown *.txt);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Add a folder of books</source>
        <translation>책 폴더 추가</translation>
    </message>
    <message>
        <source>Res&amp;ume</source>
        <translation>계속(&amp;U)</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>일시 정지됨</translation>
    </message>
    <message>
        <source>File %1 of %2: %3</source>
        <translation>파일 %1/%2: %3</translation>
    </message>
</context>
<context>
    <name>memlong::ui::MainWindow</name>
    <message>
        <source>MemLong</source>
        <translation>MemLong</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>모델을 불러오는 중…</translation>
    </message>
    <message>
        <source>MemLong needs its model files</source>
        <translation>MemLong에 모델 파일이 필요합니다</translation>
    </message>
    <message>
        <source>&amp;Try again</source>
        <translation>다시 시도(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>설정(&amp;S)…</translation>
    </message>
    <message>
        <source>To get the default models, run in a terminal:</source>
        <translation>기본 모델을 받으려면 터미널에서 다음을 실행하세요:</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>닫기</translation>
    </message>
    <message>
        <source>&amp;Library</source>
        <translation>서재(&amp;L)</translation>
    </message>
    <message>
        <source>C&amp;onversation</source>
        <translation>대화(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Reader</source>
        <translation>읽기(&amp;R)</translation>
    </message>
    <message>
        <source>S&amp;essions</source>
        <translation>세션(&amp;E)</translation>
    </message>
    <message>
        <source>Su&amp;mmarize</source>
        <translation>요약(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Memory</source>
        <translation>메모리(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <source>Add &amp;files…</source>
        <translation>파일 추가(&amp;F)…</translation>
    </message>
    <message>
        <source>Add f&amp;older…</source>
        <translation>폴더 추가(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Import session…</source>
        <translation>세션 가져오기(&amp;I)…</translation>
    </message>
    <message>
        <source>&amp;Export session…</source>
        <translation>세션 내보내기(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>끝내기(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>편집(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Find in document</source>
        <translation>문서에서 찾기(&amp;F)</translation>
    </message>
    <message>
        <source>Find &amp;next</source>
        <translation>다음 찾기(&amp;N)</translation>
    </message>
    <message>
        <source>Find &amp;previous</source>
        <translation>이전 찾기(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>보기(&amp;V)</translation>
    </message>
    <message>
        <source>Library</source>
        <translation>서재</translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation>대화</translation>
    </message>
    <message>
        <source>Reader</source>
        <translation>읽기</translation>
    </message>
    <message>
        <source>Sessions</source>
        <translation>세션</translation>
    </message>
    <message>
        <source>Summarize</source>
        <translation>요약</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>메모리</translation>
    </message>
    <message>
        <source>&amp;Session</source>
        <translation>세션(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Ask a question</source>
        <translation>질문하기(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>중지(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;New session…</source>
        <translation>새 세션(&amp;N)…</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About MemLong</source>
        <translation>MemLong 정보(&amp;A)</translation>
    </message>
    <message>
        <source>About MemLong</source>
        <translation>MemLong 정보</translation>
    </message>
    <message>
        <source>&lt;h3&gt;MemLong %1&lt;/h3&gt;&lt;p&gt;Ask questions about your books on your own computer. Long-context memory after MemLong (arXiv 2408.16967).&lt;/p&gt;</source>
        <translation>&lt;h3&gt;MemLong %1&lt;/h3&gt;&lt;p&gt;내 컴퓨터에서 내 책에 대해 질문하세요. 긴 맥락 메모리는 MemLong(arXiv 2408.16967)을 따릅니다.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>(no answer: %1)</source>
        <translation>(답변 없음: %1)</translation>
    </message>
    <message>
        <source>%1: cancelled</source>
        <translation>%1: 취소됨</translation>
    </message>
    <message>
        <source>Added %1, unchanged %2, failed %3 (%4 tokens in %5 s)</source>
        <translation>추가 %1, 변경 없음 %2, 실패 %3 (%5초 동안 %4 토큰)</translation>
    </message>
    <message>
        <source>Adding documents</source>
        <translation>문서 추가</translation>
    </message>
    <message>
        <source>Session exported to %1</source>
        <translation>세션을 %1(으)로 내보냈습니다</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 저장됨</translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation>모델: %1</translation>
    </message>
    <message>
        <source>Retriever: %1</source>
        <translation>검색기: %1</translation>
    </message>
    <message>
        <source>Device: %1</source>
        <translation>장치: %1</translation>
    </message>
    <message>
        <source>Memory: %1 / %2 tokens (%3)</source>
        <translation>메모리: %1 / %2 토큰 (%3)</translation>
    </message>
    <message>
        <source>%1 tok/s</source>
        <translation>%1 토큰/초</translation>
    </message>
    <message>
        <source>MemLong — %1</source>
        <translation>MemLong — %1</translation>
    </message>
    <message>
        <source>Your library is empty. Add a sample book (the first chapters of Jane Austen&apos;s Persuasion, public domain) to try MemLong, or drop your own books on the Library.</source>
        <translation>서재가 비어 있습니다. 예제 책(제인 오스틴 『설득』 앞부분, 퍼블릭 도메인)을 추가해 MemLong을 써 보거나, 내 책을 서재에 끌어다 놓으세요.</translation>
    </message>
    <message>
        <source>Add the sample book</source>
        <translation>예제 책 추가</translation>
    </message>
    <message>
        <source>Adding the sample book</source>
        <translation>예제 책 추가</translation>
    </message>
    <message>
        <source>the sample book is missing from this build</source>
        <translation>이 빌드에 예제 책이 없습니다</translation>
    </message>
    <message>
        <source>Imported the session “%1”; load it from the Sessions tab</source>
        <translation>세션 “%1”을(를) 가져왔습니다. 세션 탭에서 불러오세요</translation>
    </message>
</context>
<context>
    <name>memlong::ui::MemoryView</name>
    <message>
        <source>No memory yet: add a book in the Library and it appears here.</source>
        <translation>아직 메모리가 없습니다. 서재에 책을 추가하면 여기에 표시됩니다.</translation>
    </message>
    <message>
        <source>in memory, never retrieved</source>
        <translation>메모리에 있음, 검색된 적 없음</translation>
    </message>
    <message>
        <source>retrieved most</source>
        <translation>가장 많이 검색됨</translation>
    </message>
    <message>
        <source>evicted</source>
        <translation>제거됨</translation>
    </message>
    <message>
        <source>cited by the answer</source>
        <translation>답변에서 인용됨</translation>
    </message>
    <message>
        <source>Tokens %1–%2, retrieved %3 time(s), %4</source>
        <translation>토큰 %1–%2, %3회 검색됨, %4</translation>
    </message>
    <message>
        <source>in memory</source>
        <translation>메모리에 있음</translation>
    </message>
    <message>
        <source>%1 tokens · %2 entries · %3 evicted</source>
        <translation>%1 토큰 · 항목 %2개 · 제거 %3개</translation>
    </message>
</context>
<context>
    <name>memlong::ui::ReaderView</name>
    <message>
        <source>Open a document from the Library (double-click) or a citation.</source>
        <translation>서재에서 문서를 두 번 클릭하거나 인용을 열어 보세요.</translation>
    </message>
    <message>
        <source>Find in document (Ctrl+F)</source>
        <translation>문서에서 찾기 (Ctrl+F)</translation>
    </message>
    <message>
        <source>Previous</source>
        <translation>이전</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>다음</translation>
    </message>
    <message>
        <source>Chapter:</source>
        <translation>장:</translation>
    </message>
    <message>
        <source>Section %1</source>
        <translation>%1절</translation>
    </message>
    <message>
        <source>Not found</source>
        <translation>찾을 수 없음</translation>
    </message>
</context>
<context>
    <name>memlong::ui::SessionModel</name>
    <message>
        <source>%1  —  documents: %2, messages: %3, updated %4</source>
        <translation>%1  —  문서 %2개, 메시지 %3개, %4 업데이트</translation>
    </message>
</context>
<context>
    <name>memlong::ui::SessionsView</name>
    <message>
        <source>&amp;New…</source>
        <translation>새로 만들기(&amp;N)…</translation>
    </message>
    <message>
        <source>&amp;Load</source>
        <translation>불러오기(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Fork…</source>
        <translation>복제(&amp;F)…</translation>
    </message>
    <message>
        <source>&amp;Rename…</source>
        <translation>이름 바꾸기(&amp;R)…</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>삭제(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Export…</source>
        <translation>내보내기(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Import…</source>
        <translation>가져오기(&amp;I)…</translation>
    </message>
    <message>
        <source>Make the selected session the current one (its books, memory and conversation)</source>
        <translation>선택한 세션(책, 메모리, 대화)을 현재 세션으로 만들기</translation>
    </message>
    <message>
        <source>Copy the selected session under a new name and continue there</source>
        <translation>선택한 세션을 새 이름으로 복사해 이어서 사용하기</translation>
    </message>
    <message>
        <source>Fork session</source>
        <translation>세션 복제</translation>
    </message>
    <message>
        <source>Name of the copy:</source>
        <translation>사본 이름:</translation>
    </message>
    <message>
        <source>%1 (copy)</source>
        <translation>%1 (사본)</translation>
    </message>
    <message>
        <source>Rename session</source>
        <translation>세션 이름 바꾸기</translation>
    </message>
    <message>
        <source>New name:</source>
        <translation>새 이름:</translation>
    </message>
    <message>
        <source>Delete session</source>
        <translation>세션 삭제</translation>
    </message>
    <message>
        <source>This is the current session. Load or start another session first, then delete this one.</source>
        <translation>현재 세션입니다. 다른 세션을 불러오거나 새로 시작한 뒤 삭제하세요.</translation>
    </message>
    <message>
        <source>Delete the session “%1” and its conversation? The books stay in the library.</source>
        <translation>세션 “%1”과(와) 그 대화를 삭제할까요? 책은 서재에 남습니다.</translation>
    </message>
    <message>
        <source>New session</source>
        <translation>새 세션</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>이름:</translation>
    </message>
    <message>
        <source>Session %1</source>
        <translation>세션 %1</translation>
    </message>
    <message>
        <source>Export session</source>
        <translation>세션 내보내기</translation>
    </message>
    <message>
        <source>MemLong sessions (*.memlong-session);;All files (*)</source>
        <translation>MemLong 세션 (*.memlong-session);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Import session</source>
        <translation>세션 가져오기</translation>
    </message>
</context>
<context>
    <name>memlong::ui::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>설정</translation>
    </message>
    <message>
        <source>Default: %1</source>
        <translation>기본값: %1</translation>
    </message>
    <message>
        <source>Automatic (GPU when available)</source>
        <translation>자동 (가능하면 GPU)</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CUDA GPU</source>
        <translation>CUDA GPU</translation>
    </message>
    <message>
        <source>One per core (%1)</source>
        <translation>코어당 하나 (%1)</translation>
    </message>
    <message>
        <source> k tokens</source>
        <translation> k 토큰</translation>
    </message>
    <message>
        <source>How many tokens of your books the session&apos;s memory keeps before it evicts entries</source>
        <translation>세션 메모리가 항목을 제거하기 전까지 보관하는 책의 토큰 수</translation>
    </message>
    <message>
        <source>Passages (memory entries) retrieved for each question</source>
        <translation>질문마다 검색하는 구절(메모리 항목) 수</translation>
    </message>
    <message>
        <source> tokens</source>
        <translation> 토큰</translation>
    </message>
    <message>
        <source>Model default</source>
        <translation>모델 기본값</translation>
    </message>
    <message>
        <source>Zero (memory at position 0)</source>
        <translation>0 (메모리를 위치 0에)</translation>
    </message>
    <message>
        <source>Contiguous</source>
        <translation>연속</translation>
    </message>
    <message>
        <source>Least retrieved first (counter)</source>
        <translation>가장 적게 검색된 것부터 (카운터)</translation>
    </message>
    <message>
        <source>Oldest half first (FIFO)</source>
        <translation>오래된 절반부터 (FIFO)</translation>
    </message>
    <message>
        <source>Retrieved text in the prompt</source>
        <translation>검색된 텍스트를 프롬프트에</translation>
    </message>
    <message>
        <source>MemLong memory attention</source>
        <translation>MemLong 메모리 어텐션</translation>
    </message>
    <message>
        <source>No context (model only)</source>
        <translation>맥락 없음 (모델만)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>시스템 언어</translation>
    </message>
    <message>
        <source>Model file:</source>
        <translation>모델 파일:</translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation>모델 선택</translation>
    </message>
    <message>
        <source>Models (*.gguf *.safetensors);;All files (*)</source>
        <translation>모델 (*.gguf *.safetensors);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Retriever:</source>
        <translation>검색기:</translation>
    </message>
    <message>
        <source>Choose a retriever</source>
        <translation>검색기 선택</translation>
    </message>
    <message>
        <source>Retrievers (*.bin);;All files (*)</source>
        <translation>검색기 (*.bin);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Library folder:</source>
        <translation>서재 폴더:</translation>
    </message>
    <message>
        <source>Choose the library folder</source>
        <translation>서재 폴더 선택</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>장치:</translation>
    </message>
    <message>
        <source>Threads:</source>
        <translation>스레드:</translation>
    </message>
    <message>
        <source>Memory size:</source>
        <translation>메모리 크기:</translation>
    </message>
    <message>
        <source>Top-k:</source>
        <translation>Top-k:</translation>
    </message>
    <message>
        <source>Memory entry size:</source>
        <translation>메모리 항목 크기:</translation>
    </message>
    <message>
        <source>Position mode:</source>
        <translation>위치 방식:</translation>
    </message>
    <message>
        <source>Eviction policy:</source>
        <translation>제거 정책:</translation>
    </message>
    <message>
        <source>Answer mode:</source>
        <translation>답변 방식:</translation>
    </message>
    <message>
        <source>Answer length:</source>
        <translation>답변 길이:</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>언어:</translation>
    </message>
    <message>
        <source>Changing the model, device or memory settings reloads the model; your library and sessions are kept. The language applies at the next start.</source>
        <translation>모델, 장치, 메모리 설정을 바꾸면 모델을 다시 불러옵니다. 서재와 세션은 유지됩니다. 언어는 다음 실행부터 적용됩니다.</translation>
    </message>
</context>
<context>
    <name>memlong::ui::SummarizeView</name>
    <message>
        <source>Whole book</source>
        <translation>책 전체</translation>
    </message>
    <message>
        <source>Chapters</source>
        <translation>장 범위</translation>
    </message>
    <message>
        <source>&amp;Summarize</source>
        <translation>요약(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>취소(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Export Markdown…</source>
        <translation>Markdown 내보내기(&amp;E)…</translation>
    </message>
    <message>
        <source>The summary appears here. Summaries are also saved in the session.</source>
        <translation>요약이 여기에 표시됩니다. 요약은 세션에도 저장됩니다.</translation>
    </message>
    <message>
        <source>to</source>
        <translation>~</translation>
    </message>
    <message>
        <source>Book:</source>
        <translation>책:</translation>
    </message>
    <message>
        <source>Range:</source>
        <translation>범위:</translation>
    </message>
    <message>
        <source>Export summary</source>
        <translation>요약 내보내기</translation>
    </message>
    <message>
        <source>Markdown (*.md);;All files (*)</source>
        <translation>Markdown (*.md);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Summarizing the whole book</source>
        <translation>책 전체를 요약하는 중</translation>
    </message>
    <message>
        <source>Chapter %1 of %2: %3</source>
        <translation>%2개 장 중 %1장: %3</translation>
    </message>
    <message>
        <source>%1 tok/s</source>
        <translation>%1 토큰/초</translation>
    </message>
    <message>
        <source>Stopped; the part done so far is shown.</source>
        <translation>중지됨. 지금까지 완료된 부분을 표시합니다.</translation>
    </message>
</context>
</TS>
