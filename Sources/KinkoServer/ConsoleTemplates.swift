import KinkoCore
import Mustache

/// The console's pages as Mustache templates (swift-mustache). `{{…}}` escapes HTML, so a user
/// string can never become markup; `{{{…}}}` appears only for markup the server itself drew (the
/// SVG bars) and for a page's rendered body inside the layout. Every POST form carries the
/// session's CSRF token through the `csrf` partial.
///
/// The templates are compiled into the binary rather than shipped as resource files: the
/// server is one executable to deploy, with no resource bundle that could go missing.
enum ConsoleTemplates {
    static let sources: [String: String] = [
        "csrf": #"<input type="hidden" name="csrf" value="{{csrf}}">"#,

        "layout": """
            <!doctype html><html lang="{{lang}}"><head><meta charset="utf-8">{{#csrf}}<meta name="csrf-token" content="{{csrf}}">{{/csrf}}<title>{{title}}</title><style>{{{style}}}</style></head><body>
            <a class="skip" href="#content">[[本文へ移動|Skip to content]]</a><nav aria-label="[[メニュー|Main]]"><b>金庫 Kinko</b>{{#signedIn}}<span class="links">{{#nav}}<a href="{{path}}">{{label}}</a>{{/nav}}</span>{{/signedIn}}
            <span class="me"><a id="language" href="{{switchHref}}" lang="{{switchLang}}" hreflang="{{switchLang}}">{{switchName}}</a>{{#signedIn}} <span id="whoami">{{name}} ({{roles}})</span>
            <form class="inline" method="post" action="/console/logout">{{> csrf}}<button id="sign-out">[[ログアウト|Sign out]]</button></form>{{/signedIn}}</span></nav><main id="content">{{#notice}}<p id="notice" class=good>{{notice}}</p>{{/notice}}{{#error}}<p id="error" class=bad>{{error}}</p>{{/error}}{{#warning}}<p id="warning" class=bad role="alert">{{warning}}{{#warningLink}} — <a id="warning-link" href="{{warningLink}}">[[差異を見る|see the breaks]]</a>{{/warningLink}}</p>{{/warning}}{{{content}}}</main></body></html>
            """,

        "login": """
            <h1>[[サインイン|Sign in]]</h1>{{#loginError}}<p id="login-error" class=bad>{{loginError}}</p>{{/loginError}}
            <form method="post" action="/console/login"><label>[[API トークン|API token]] <input type="password" name="token" id="token" size="60" autocomplete="off"></label>
            <button type="submit" id="sign-in">[[サインイン|Sign in]]</button></form>
            <p>[[トークンは <code>kinko init</code> または <code>kinko demo</code> が発行します (demo-tokens.json)。|Tokens come from <code>kinko init</code> or <code>kinko demo</code> (demo-tokens.json).]]</p>
            """,

        "problem": #"<h1>{{status}} {{title}}</h1><p id="page-error" class=bad>{{detail}}</p>"#,

        "overview": """
            <h1>[[概要|Overview]]</h1>
            {{#reserve}}<section data-panel="reserve"><h2>[[責任準備金|Liability reserve]]</h2>
            {{#computed}}<p>[[必要額|required]] <b id="reserve-required">¥{{required}}</b> · [[積立額|funded]] <b id="reserve-funded">¥{{funded}}</b>
            · [[充足率|adequacy]] <b>{{adequacy}}</b> ([[ルール|rule set]] {{ruleVersion}}, {{time}})</p>
            {{{bar}}}{{/computed}}{{^computed}}<p>[[未計算|not computed yet]]</p>{{/computed}}
            {{#chart}}<figure><figcaption>[[充足率の推移 (過去 90 日、点線は 100%)|Adequacy over the last 90 days (dashed: 100%)]]</figcaption>{{{chart}}}</figure>{{/chart}}
            {{#canCompute}}<form method="post" action="/console/actions/compute-requirement">{{> csrf}}<button id="compute-requirement">[[必要額を計算|Compute the requirement]]</button></form>{{/canCompute}}</section>{{/reserve}}
            {{#custody}}<section data-panel="custody"><h2>[[分別管理|Custody]]</h2>
            <table><tr><th>[[資産|asset]]</th><th>[[ホット比率|hot share]]</th><th>[[上限|limit]] <span id="hot-share-limit">{{limit}}</span></th><th>OK</th></tr>
            {{#assets}}<tr><td>{{code}}</td><td class="n hot-share" data-asset="{{code}}">{{share}}</td><td>{{{bar}}}</td><td>{{mark}}</td></tr>{{/assets}}</table>
            {{#chart}}<figure><figcaption>[[ホット比率の推移 (過去 90 日の毎日の締め時刻と現在、点線は上限)|Hot share at each daily cut-off of the last 90 days and now (dashed: the limit)]]</figcaption>{{{chart}}}</figure>{{/chart}}
            {{#hasMissed}}<p id="unreconciled" class=bad role="alert">[[締め時刻を過ぎても照合されていない日|Days past their cut-off with no reconciliation]]: {{#missed}}<b class="unreconciled-day">{{day}}</b> {{/missed}}</p>{{/hasMissed}}
            {{#last}}<p>[[最終照合|last reconciliation]]: <b id="last-reconciliation" data-clean="{{clean}}">{{day}}</b> — <a href="/console/reconciliation?day={{day}}" class="{{summaryClass}}">{{summary}}</a></p>{{/last}}
            {{#canReconcile}}<form method="post" action="/console/actions/reconcile">{{> csrf}}<label>[[営業日|business day]] <input name="day" id="reconcile-day" value="{{yesterday}}" size="10"></label>
            <button id="reconcile">[[照合|Reconcile]]</button></form>{{/canReconcile}}</section>{{/custody}}
            {{#monitoring}}<section data-panel="monitoring"><h2>[[取引モニタリング|Monitoring]]</h2>
            <p>[[未処理アラート|open alerts]] <b id="open-alerts">{{open}}</b> · [[調査中|in cases]] {{inCase}} · <a href="/console/alerts">[[一覧|list]]</a></p>
            <figure><figcaption>[[日別アラート件数 (過去 90 日)|Alerts raised per day (last 90 days)]]</figcaption>{{{chart}}}</figure></section>{{/monitoring}}
            {{#incidents}}<section data-panel="incidents"><h2>[[インシデント|Incidents]]</h2>
            <p>[[未完了|open]] <b id="open-incidents">{{open}}</b> [[/|of]] <span id="incidents-total">{{total}}</span> · <a href="/console/incidents">[[一覧|list]]</a></p></section>{{/incidents}}
            {{#nothing}}<p>[[この役割で表示できる項目はありません|Nothing here for your roles.]]</p>{{/nothing}}
            """,

        "balances": """
            <h1>[[残高|Balances]] — {{asset}}</h1><p>{{#tabs}}<a href="/console/balances?asset={{code}}">{{code}}</a>{{^last}} · {{/last}}{{/tabs}}</p>
            <form method="get" action="/console/balances"><input type="hidden" name="asset" value="{{asset}}"><label>[[区分|class]] <select name="class" id="balance-class">{{#classes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/classes}}</select></label> <button id="balance-filter">[[表示|Show]]</button></form>
            {{^hasRows}}<p id="no-balances">[[該当する口座はありません|No accounts in this view.]]</p>{{/hasRows}}
            {{#hasRows}}<table id="balances"><tr><th>[[口座|account]]</th><th>[[区分|class]]</th><th>[[顧客|owner]]</th><th>[[残高|balance]]</th></tr>
            {{#rows}}<tr><td title="{{id}}">{{label}}</td><td>{{accountClass}}</td><td>{{owner}}</td><td class=n>{{balance}}</td></tr>{{/rows}}</table>{{/hasRows}}
            <p>{{#first}}<a id="balances-first" href="{{first}}">[[← 最初から|← from the start]]</a>{{/first}} {{#next}}<a id="balances-next" href="{{next}}">[[次の 100 件 →|next 100 →]]</a>{{/next}}</p>
            """,

        "alerts": """
            <h1>[[アラート|Alerts]]</h1>
            <form method="get" action="/console/alerts"><label>[[状態|status]] <select name="status" id="alert-status-filter">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label> <button id="alert-filter">[[表示|Show]]</button></form>
            {{^hasAlerts}}<p id="no-alerts">[[該当するアラートはありません|No alerts in this view.]]</p>{{/hasAlerts}}
            {{#hasAlerts}}<table id="alert-queue"><tr><th>#</th><th>[[判定|outcome]]</th><th>[[イベント|event]]</th><th>[[顧客|customer]]</th><th>[[状態|status]]</th><th>[[理由|why]]</th><th></th></tr>
            {{#alerts}}<tr id="alert-{{id}}"><td><a href="/console/alert?id={{id}}">{{id}}</a></td><td class={{outcome}}>{{outcome}}</td><td>{{#marketAlert}}<a class="market-alert-link" href="/console/surveillance/alert?id={{marketAlert}}">[[相場|market]] {{marketAlert}}</a>{{/marketAlert}}{{^marketAlert}}{{event}}{{/marketAlert}}</td><td>{{customer}}</td><td class=status data-status="{{statusKey}}">{{status}}</td><td>{{why}}</td><td>
            {{#canDismiss}}<form class="inline" method="post" action="/console/actions/dismiss-alert">{{> csrf}}<input type="hidden" name="alert" value="{{id}}"><input name="reason" placeholder="[[理由|reason]]" size="18" required><button>[[却下|Dismiss]]</button></form>{{/canDismiss}}
            {{#canOpen}}<form class="inline" method="post" action="/console/actions/open-case">{{> csrf}}<input type="hidden" name="alert" value="{{id}}"><input name="title" placeholder="[[件名|title]]" size="18" required><button>[[案件化|Open case]]</button></form>{{/canOpen}}
            </td></tr>{{/alerts}}</table>{{/hasAlerts}}
            <p>{{#first}}<a id="alerts-first" href="{{first}}">[[← 最初から|← from the start]]</a>{{/first}} {{#next}}<a id="alerts-next" href="{{next}}">[[次の 50 件 →|next 50 →]]</a>{{/next}}</p>
            <h2 id="cases">[[案件|Cases]]</h2>
            <form method="get" action="/console/alerts#cases"><input type="hidden" name="status" value="{{alertStatus}}"><label>[[案件の状態|case status]] <select name="case_status" id="case-status-filter">{{#caseStatuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/caseStatuses}}</select></label> <button id="case-filter">[[表示|Show]]</button></form>
            {{^hasCases}}<p id="no-cases">[[該当する案件はありません|No cases in this view.]]</p>{{/hasCases}}
            {{#hasCases}}<table id="case-list"><tr><th>#</th><th>[[件名|title]]</th><th>[[状態|status]]</th><th>[[処分|disposition]]</th><th>[[担当|assignee]]</th><th>[[アラート|alerts]]</th></tr>
            {{#cases}}<tr><td><a href="/console/case?id={{id}}">{{id}}</a></td><td><a href="/console/case?id={{id}}">{{title}}</a></td><td>{{status}}</td><td>{{disposition}}</td><td>{{assignee}}</td><td>{{alerts}}</td></tr>{{/cases}}</table>{{/hasCases}}
            <p>{{#casesFirst}}<a id="cases-first" href="{{casesFirst}}">[[← 最初から|← from the start]]</a>{{/casesFirst}} {{#casesNext}}<a id="cases-next" href="{{casesNext}}">[[次の 50 件 →|next 50 →]]</a>{{/casesNext}}</p>
            """,

        "incidents": """
            <h1>[[インシデントと補償|Incidents and compensation]]</h1>
            <form method="get" action="/console/incidents"><label>[[補償|compensation]] <select name="status" id="incident-status-filter">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label> <button id="incident-filter">[[表示|Show]]</button></form>
            {{^hasIncidents}}<p id="no-incidents">[[該当するインシデントはありません|No incidents in this view.]]</p>{{/hasIncidents}}
            {{#hasIncidents}}<table id="incident-list"><tr><th>#</th><th>[[種類|type]]</th><th>[[損失|lost]]</th><th>[[円換算|in yen]]</th><th>[[検知|detected]]</th><th>[[補償|compensation]]</th><th>[[所要|took]]</th></tr>
            {{#incidents}}<tr class="incident" data-paid="{{paid}}"><td>{{id}}</td><td>{{lossType}}</td><td class=n>{{losses}}</td><td class=n title="{{valuation}}">{{lossJPY}}</td><td>{{detected}}</td><td{{^paid}} class=bad{{/paid}}>{{compensation}}</td><td class=n>{{took}}</td></tr>{{/incidents}}</table>{{/hasIncidents}}
            <p>{{range}} {{#first}}<a id="incidents-first" href="{{first}}">[[← 最初から|← from the start]]</a>{{/first}} {{#next}}<a id="incidents-next" href="{{next}}">[[次の 50 件 →|next 50 →]]</a>{{/next}}</p>
            """,

        "reports": """
            <h1>[[報告書|Reports]]</h1>
            <h2>[[提出予定|Calendar]]{{#overdueCount}} — <span id="overdue-count" class=bad>[[期限超過 {{overdueCount}} 件|{{overdueCount}} overdue]]</span>{{/overdueCount}}</h2>
            {{^hasDue}}<p id="nothing-due">[[予定はありません|Nothing is due.]]</p>{{/hasDue}}
            {{#hasDue}}<table id="report-calendar"><tr><th>[[期限|due]]</th><th>[[報告書|report]]</th><th>[[期間|period]]</th><th>[[状態|status]]</th><th>[[根拠|basis]]</th></tr>
            {{#due}}<tr class="due-item" data-kind="{{kind}}" data-period="{{period}}" data-overdue="{{overdue}}"><td>{{due}}</td><td>{{title}} <code>{{kind}}</code></td><td>{{period}}</td><td{{#overdue}} class=bad{{/overdue}}>{{status}}{{#overdue}} — [[期限超過|overdue]]{{/overdue}}</td><td>{{basis}}</td></tr>{{/due}}</table>{{/hasDue}}
            {{#canGenerate}}<h2>[[作成|Generate]]</h2><form method="post" action="/console/actions/generate-report">{{> csrf}}
            <label>[[報告書|report]] <select name="kind" id="report-kind">{{#kinds}}<option value="{{kind}}">{{title}}</option>{{/kinds}}</select></label>
            <label>[[期間|period]] <input name="period" id="report-period" size="24" required placeholder="2026-12-01 · 2026Q4 · 2026-10-01..2026-12-31 · case-1"></label>
            <button id="generate-report">[[作成|Generate]]</button></form>{{/canGenerate}}
            <h2 id="stored">[[保存済み|Stored]]</h2>
            <form method="get" action="/console/reports#stored"><label>[[種類|kind]] <select name="kind" id="report-kind-filter">{{#kindFilter}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kindFilter}}</select></label> <button id="report-filter">[[表示|Show]]</button></form>
            {{^hasReports}}<p id="no-reports">{{#noneAtAll}}[[まだありません|No report generated yet.]]{{/noneAtAll}}{{^noneAtAll}}[[該当する報告書はありません|No reports in this view.]]{{/noneAtAll}}</p>{{/hasReports}}
            {{#hasReports}}<table id="stored-reports"><tr><th>[[報告書|report]]</th><th>[[期間|period]]</th><th>SHA-256</th><th>[[状態|status]]</th><th>[[作成|by]]</th><th>[[承認|approved]]</th><th>[[届出|filed]]</th><th>[[ダウンロード|download]]</th><th></th></tr>
            {{#reports}}<tr class="stored-report" data-kind="{{kind}}" data-period="{{period}}" data-status="{{status}}"><td>{{kind}}</td><td>{{period}}</td><td><code>{{sha}}…</code></td><td class=status>{{status}}</td><td>{{generatedBy}}</td><td>{{approvedBy}}</td><td>{{filed}}</td>
            <td><a class="download" href="/console/reports/download?{{query}}&amp;format=html&amp;lang=ja">HTML 日本語</a> · <a href="/console/reports/download?{{query}}&amp;format=html&amp;lang=en">HTML English</a> · <a href="/console/reports/download?{{query}}&amp;format=csv&amp;lang=ja">CSV</a> · <a href="/console/reports/download?{{query}}&amp;format=json&amp;lang=en">JSON</a></td>
            <td>{{#canApprove}}<form class="inline" method="post" action="/console/actions/approve-report">{{> csrf}}<input type="hidden" name="kind" value="{{kind}}"><input type="hidden" name="period" value="{{period}}"><button class="approve-report">[[承認|Approve]]</button></form>{{/canApprove}}</td></tr>{{/reports}}</table>{{/hasReports}}
            <p>{{range}} {{#first}}<a id="reports-first" href="{{first}}#stored">[[← 最初から|← from the start]]</a>{{/first}} {{#next}}<a id="reports-next" href="{{next}}#stored">[[次の 50 件 →|next 50 →]]</a>{{/next}}</p>
            """,

        "surveillance": """
            <h1>[[相場監視|Market surveillance]]</h1>
            <form method="get" action="/console/surveillance"><label>[[類型|typology]] <select name="typology" id="market-typology-filter">{{#typologies}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/typologies}}</select></label>
            <label>[[銘柄|market]] <input name="market" id="market-filter" value="{{market}}" size="10" maxlength="32"></label> <button id="market-alert-filter">[[表示|Show]]</button></form>
            {{^hasAlerts}}<p id="no-market-alerts">{{#filtered}}[[該当するアラートはありません|No market-abuse alerts in this view.]]{{/filtered}}{{^filtered}}[[アラートはありません|No market-abuse alerts.]]{{/filtered}}</p>{{/hasAlerts}}
            {{#hasAlerts}}<table id="market-alerts"><tr><th>#</th><th>[[類型|typology]]</th><th>[[銘柄|market]]</th><th>[[顧客|customers]]</th><th>[[口座|accounts]]</th><th>[[期間|window (JST)]]</th><th>[[スコア|score]]</th><th>[[説明|explanation]]</th><th>[[キュー|queue]]</th></tr>
            {{#alerts}}<tr class="market-alert" data-typology="{{typology}}" data-status="{{status}}"><td><a href="/console/surveillance/alert?id={{id}}">{{id}}</a></td><td>{{typology}}</td><td>{{market}}</td><td class="market-customers">{{customers}}</td><td>{{accounts}}</td><td>{{window}}</td><td class=n>{{score}}</td><td>{{explanation}}</td><td>{{queue}}</td></tr>{{/alerts}}</table>{{/hasAlerts}}
            <p>{{#first}}<a id="market-alerts-first" href="{{first}}">[[← 最初から|← from the start]]</a>{{/first}} {{#next}}<a id="market-alerts-next" href="{{next}}">[[次の 50 件 →|next 50 →]]</a>{{/next}}</p>
            """,

        "surveillanceAlert": """
            <h1>[[相場監視アラート|Market alert]] <code>{{id}}</code></h1>
            <p><b>{{typology}}</b> · {{market}} · {{window}} · [[ルール|rule set]] {{ruleSet}}</p>
            <p id="queue-state" data-status="{{status}}">[[アラートキュー|alert queue]]: {{#queueAlert}}<a href="/console/alerts#alert-{{queueAlert}}">#{{queueAlert}}</a> {{status}}{{#caseID}} · [[案件|case]] {{caseID}}{{/caseID}}{{/queueAlert}}{{^queueAlert}}[[未登録|not queued yet (the next scan queues it)]]{{/queueAlert}}</p>
            <p>{{explanation}}</p>
            <h2>[[指標と閾値|Figures against thresholds]]</h2>
            <table id="alert-figures"><tr><th>[[指標|figure]]</th><th>[[値|value]]</th><th>[[閾値|threshold]]</th></tr>
            {{#figures}}<tr><td>{{name}}</td><td class=n>{{value}}</td><td class=n>{{threshold}}</td></tr>{{/figures}}</table>
            <h2>[[相場の再現|Market replay]]</h2>
            <figure id="market-replay">{{{svg}}}<figcaption>[[約定 (灰色{{#hasFlaggedTrades}}、アラート対象は橙色{{/hasFlaggedTrades}})、最良買気配 (青) と売気配 (赤)、板の次の気配 (淡色)、対象注文は発注から終了までの棒 (✕ 取消、● 約定)。|Trades (grey{{#hasFlaggedTrades}}; the alert's in orange{{/hasFlaggedTrades}}), best bid (blue) and ask (red), the book's next levels (faint), the alert's orders as bars from placement to end (✕ cancelled, ● filled).]]</figcaption></figure>
            <h2>[[対象注文|The alert's orders]]</h2>
            {{^orders}}<p>[[なし (証拠は約定 {{tradeCount}} 件)|none (the evidence is trades: {{tradeCount}})]]</p>{{/orders}}
            {{#hasOrders}}<table id="flagged-orders"><tr><th>[[注文|order]]</th><th>[[口座|account]]</th><th>[[売買|side]]</th><th>[[価格|price]]</th><th>[[数量|quantity]]</th><th>[[発注|placed]]</th><th>[[終了|ended]]</th></tr>
            {{#orders}}<tr><td>{{order}}</td><td>{{account}}</td><td>{{side}}</td><td class=n>{{price}}</td><td class=n>{{quantity}}</td><td>{{placed}}</td><td>{{ended}}</td></tr>{{/orders}}</table>{{/hasOrders}}
            <p>[[口座|accounts]]: {{accounts}}</p>
            """,

        "alert": """
            <h1>[[アラート|Alert]] {{id}}</h1>
            <p><b class={{outcome}}>{{outcome}}</b> · [[状態|status]] <span id="alert-status">{{status}}</span>{{#caseID}} · [[案件|case]] {{caseID}}{{/caseID}} · [[発生|at]] {{time}} · [[検知|raised]] {{raised}} · [[ルール|rule set]] {{ruleSet}}</p>
            <p>[[イベント|event]] <code>{{event}}</code>{{#marketAlert}} · <a id="market-replay-link" href="/console/surveillance/alert?id={{marketAlert}}">[[相場の再現|market replay]]</a>{{/marketAlert}}</p>
            <h2>[[顧客|Customers]]</h2>
            {{^customers}}<p>[[なし|none]]</p>{{/customers}}
            <ul>{{#customers}}<li>{{customer}} — {{name}}</li>{{/customers}}</ul>
            {{#flows}}<h2>[[資金の流れ|Money flows]]</h2><figure id="alert-flows">{{{flows}}}<figcaption>[[丸は顧客 (橙はアラートの対象)、矢印は顧客間の送金 {{flowCount}} 件。|Circles are customers (orange: the alert's subject), arrows the {{flowCount}} transfers between them.]]</figcaption></figure>{{/flows}}
            {{#hits}}<section class="hit"><h2>{{rule}} <code>{{ruleKey}}</code> (+{{score}})</h2><p>{{explanation}}</p>
            <table class="hit-values"><tr><th>[[指標|figure]]</th><th>[[値|value]]</th></tr>{{#values}}<tr><td title="{{key}}">{{name}}</td><td>{{value}}</td></tr>{{/values}}</table>
            <p>[[対象イベント ({{eventCount}})|events ({{eventCount}})]]: {{events}}</p></section>{{/hits}}
            {{#scenarios}}<p>[[シナリオ|scenario]] {{name}}: {{score}} → {{outcome}}</p>{{/scenarios}}
            <p><a href="/console/alerts#alert-{{id}}">[[← アラート一覧|all alerts]]</a></p>
            """,

        "reconciliation": """
            <h1>[[照合|Reconciliation]] {{day}}</h1>
            <p>[[締め|cut-off]] {{cutoff}} · {{#clean}}<b id="reconciliation-status" class=good>[[差異なし|clean]]</b>{{/clean}}{{^clean}}<b id="reconciliation-status" class=bad>[[差異 {{breakCount}} 件・未解決|{{breakCount}} unresolved breaks]]</b>{{/clean}}</p>
            <table id="reconciliation-lines"><tr><th>[[資産|asset]]</th><th>[[顧客への債務|owed to customers]]</th><th>[[帳簿上の保有|ledger holdings]]</th><th>[[確認残高|observed]]</th></tr>
            {{#lines}}<tr><td>{{asset}}</td><td class=n>{{owed}}</td><td class=n>{{held}}</td><td class=n>{{observed}}</td></tr>{{/lines}}</table>
            {{^clean}}<h2>[[差異|Breaks]]</h2><table id="reconciliation-breaks"><tr><th>[[資産|asset]]</th><th>[[種類|kind]]</th><th>[[ウォレット|wallet]]</th><th>[[差|size]]</th><th>[[原因|cause]]</th></tr>
            {{#breaks}}<tr class="break"><td>{{asset}}</td><td>{{kind}}</td><td>{{wallet}}</td><td class=n>{{size}}</td><td>{{cause}}</td></tr>{{/breaks}}</table>{{/clean}}
            <h2>[[実行履歴 (新しい順)|Runs, newest first]]</h2>{{^hasEarlierRuns}}<p>[[この日の照合は 1 回です。|This day was reconciled once.]]</p>{{/hasEarlierRuns}}
            <table id="reconciliation-runs"><tr><th>#</th><th>[[実行|ran]]</th><th>[[実行者|by]]</th><th>[[結果|verdict]]</th><th>[[その時の内容|what it found]]</th></tr>
            {{#runs}}<tr class="run" data-clean="{{clean}}"><td>{{run}}</td><td>{{at}}</td><td>{{by}}</td><td{{^clean}} class=bad{{/clean}}>{{verdict}}</td><td><details><summary>[[表示|show]]</summary><pre>{{report}}</pre></details></td></tr>{{/runs}}</table>
            """,

        "audit": """
            <h1>[[監査ログ|Audit log]]</h1><p>{{#valid}}<b id="audit-status" class=good>[[検証済|verified]]</b>{{/valid}}{{^valid}}<b id="audit-status" class=bad>[[改ざん検出|TAMPERED]]</b>{{/valid}}: [[記録 {{entries}} 件、署名付きチェックポイント {{checkpoints}} 件、ルート|{{entries}} entries, {{checkpoints}} signed checkpoints, root]] <code>{{root}}</code></p>
            {{#problems}}<p class=bad>{{.}}</p>{{/problems}}
            <form method="get" action="/console/audit" class="filters"><label>[[操作|action]] <input name="action" id="audit-action" value="{{action}}" size="22"></label>
            <label>[[実行者|principal]] <input name="principal" id="audit-principal" value="{{principal}}" size="16"></label>
            <label>[[結果|result]] <input name="result" id="audit-result" value="{{result}}" size="12"></label> <button id="audit-filter">[[絞り込む|Filter]]</button></form>
            {{^hasRows}}<p id="no-audit-entries">[[該当する記録はありません (#{{scannedFrom}}–#{{scannedTo}} を確認)|No entries match (#{{scannedFrom}}–#{{scannedTo}} searched).]]</p>{{/hasRows}}
            {{#hasRows}}<table id="audit-entries"><tr><th>#</th><th>[[日時|time]]</th><th>[[実行者|principal]]</th><th>[[役割|role]]</th><th>[[操作|action]]</th><th>[[結果|result]]</th><th>[[詳細|details]]</th></tr>
            {{#rows}}<tr class="audit-entry" data-index="{{index}}"><td><a href="/console/audit/entry?n={{index}}">{{index}}</a></td><td>{{time}}</td><td>{{principal}}</td><td>{{role}}</td><td><code>{{action}}</code></td><td>{{result}}</td><td>{{details}}</td></tr>{{/rows}}</table>{{/hasRows}}
            <p>{{#newest}}<a id="audit-newest" href="{{newest}}">[[← 最新の記録|← newest]]</a>{{/newest}} {{#older}}<a id="audit-older" href="{{older}}">[[古い記録 →|older →]]</a>{{/older}}</p>
            """,

        "auditEntry": """
            <h1>[[監査記録|Audit entry]] #{{index}}</h1>
            <table id="audit-entry-fields"><tr><th>[[日時|time]]</th><td>{{time}}</td></tr><tr><th>[[実行者|principal]]</th><td>{{principal}} ({{principalID}})</td></tr>
            <tr><th>[[役割|role]]</th><td>{{role}}</td></tr><tr><th>[[操作|action]]</th><td><code>{{action}}</code></td></tr><tr><th>[[結果|result]]</th><td>{{result}}</td></tr>
            <tr><th>[[要求ダイジェスト|request digest]]</th><td><code>{{digest}}</code></td></tr>{{#details}}<tr><th>{{key}}</th><td>{{value}}</td></tr>{{/details}}</table>
            <h2>[[包含証明|Inclusion proof]]</h2>
            {{#proof}}<p>[[署名付きチェックポイント|Signed checkpoint]]: [[{{size}} 件|size {{size}}]], {{checkpointTime}}, [[鍵|key]] <code>{{keyID}}</code>, [[ルート|root]] <code id="proof-root">{{root}}</code> —
            {{#checkpointsVerified}}<b id="checkpoint-status" class=good>[[サーバーが署名を検証済|signatures verified by the server]]</b>{{/checkpointsVerified}}{{^checkpointsVerified}}<b id="checkpoint-status" class=bad>[[サーバーは署名を検証できません|the server could not verify the signatures]]</b>{{/checkpointsVerified}}</p>
            <p>[[葉ハッシュ|leaf hash]] <code>{{leafHash}}</code> · [[経路|path]] ({{pathLength}}):</p><ol id="proof-path">{{#path}}<li><code>{{.}}</code></li>{{/path}}</ol>
            <div id="audit-proof" data-entry="{{entryHex}}" data-index="{{index}}" data-size="{{size}}" data-root="{{root}}" data-path="{{pathJoined}}"></div>
            <p>[[このブラウザで再計算|Recomputed in this browser]]: <b id="proof-result" data-state="" aria-live="polite">…</b></p>
            <script src="{{script}}"></script>{{/proof}}
            {{^proof}}<p id="proof-pending">[[この記録はまだ署名付きチェックポイントに含まれていません|No signed checkpoint covers this entry yet]] ({{latestCheckpoint}}).</p>{{/proof}}
            <p><a href="/console/audit">[[← 監査ログ|← audit log]]</a></p>
            """,

        "case": """
            <h1>[[案件|Case]] {{id}}: {{title}}</h1>
            <p>[[状態|status]] <b id="case-status">{{status}}</b>{{#disposition}} · [[処分|disposition]] {{disposition}}{{/disposition}} · [[担当|assignee]] {{#unassigned}}<span class=bad>[[未割当|unassigned]]</span>{{/unassigned}}{{assignee}} · [[開始|opened]] {{openedAt}} ({{openedBy}}){{#closedAt}} · [[終了|closed]] {{closedAt}}{{/closedAt}}</p>
            <h2>[[アラート|Alerts]]</h2>
            {{^alerts}}<p>[[なし|none]]</p>{{/alerts}}
            <table id="case-alerts">{{#alerts}}<tr class="case-alert"><td><a href="/console/alert?id={{id}}">#{{id}}</a></td><td class={{outcome}}>{{outcome}}</td><td>{{status}}</td><td>{{time}}</td><td><code>{{rules}}</code></td><td>{{customers}}</td><td>{{why}}</td></tr>{{/alerts}}</table>
            <h2>[[メモ|Notes]]</h2>
            {{^notes}}<p id="no-notes">[[メモはまだありません|No notes yet.]]</p>{{/notes}}
            <ol id="case-notes">{{#notes}}<li><span class="note-meta">{{at}} · {{author}}</span><p>{{text}}</p></li>{{/notes}}</ol>
            {{#canManage}}<form method="post" action="/console/actions/case?id={{id}}">{{> csrf}}<input type="hidden" name="action" value="note">
            <label for="case-note">[[メモを追加|Add a note]]</label><br><textarea id="case-note" name="note" rows="3" cols="80" maxlength="{{noteMax}}" required></textarea><br><button id="add-note">[[追加|Add]]</button></form>
            <h2>[[操作|Actions]]</h2>
            <form class="inline" method="post" action="/console/actions/case?id={{id}}">{{> csrf}}<input type="hidden" name="action" value="assign"><label>[[担当者|assignee]] <input name="assignee" value="{{me}}" size="18" required></label> <button id="assign-case">[[割当|Assign]]</button></form>
            · <form class="inline" method="post" action="/console/actions/case?id={{id}}">{{> csrf}}<input type="hidden" name="action" value="add"><label>[[アラート追加|add alerts]] <input name="alerts" placeholder="3, 4" size="10" required></label> <button id="add-alerts">[[追加|Add]]</button></form>
            {{#canInvestigate}} · <form class="inline" method="post" action="/console/actions/case?id={{id}}">{{> csrf}}<input type="hidden" name="action" value="investigate"><button id="investigate-case">[[調査開始|Start investigating]]</button></form>{{/canInvestigate}}
            · <form class="inline" method="post" action="/console/actions/case?id={{id}}">{{> csrf}}<input type="hidden" name="action" value="close"><label>[[処分|disposition]] <select name="disposition" id="case-disposition">{{#dispositions}}<option value="{{value}}">{{label}}</option>{{/dispositions}}</select></label> <button id="close-case">[[終結|Close]]</button></form>{{/canManage}}
            {{#canDraft}}<h2>[[届出|Report]]</h2><p><a id="str-draft-link" href="/console/case/str?id={{id}}">[[疑わしい取引の届出 (案) を見る|See the STR draft]]</a> · [[正式な届出は報告書ページで作成し、二人目の承認を受けます|The STR to file is generated on the reports page and approved by a second officer]] (<a href="/console/reports">[[報告書|reports]]</a>)</p>{{/canDraft}}
            <p><a href="/console/alerts">[[← アラートと案件|← alerts and cases]]</a></p>
            """,

        "str": """
            <h1>[[疑わしい取引の届出 (案)|STR draft]] — [[案件|case]] {{id}}: {{title}}</h1>
            <p>[[対象者 {{subjects}} 名、アラート {{alerts}} 件、作成 {{preparedAt}} (この閲覧は監査ログに記録されます)|{{subjects}} subjects, {{alerts}} alerts, drafted {{preparedAt}} (this view is in the audit log)]]</p>
            <pre id="str-text">{{text}}</pre>
            <p><a href="/console/case?id={{id}}">[[← 案件|← case]]</a></p>
            """,

        "approvals": """
            <h1>[[承認|Approvals]]</h1>
            <section id="browser-key" data-principal="{{principal}}">
            <h2>[[署名鍵|Your signing keys]]</h2>
            <table><tr><th>[[鍵|key]]</th><th>[[方式|algorithm]]</th><th>[[登録|registered]]</th><th>[[状態|status]]</th></tr>
            {{#keys}}<tr class="own-key" data-key-id="{{id}}" data-status="{{status}}"><td><code>{{id}}</code></td><td>{{algorithm}}</td><td>{{registered}}</td><td>{{state}}</td></tr>{{/keys}}</table>
            <p>[[このブラウザ|this browser]]: <span id="key-status" data-key="">[[確認中|checking…]]</span></p>
            <button id="create-key">[[このブラウザで鍵を作成|Create a signing key in this browser]]</button>
            <p>[[鍵は WebCrypto で生成され、取り出せない形でこのブラウザ (IndexedDB) にだけ保存されます。サーバーは公開鍵と、あなたが鍵を持つ証明だけを受け取ります。|The key is generated by WebCrypto, cannot be exported, and stays in this browser (IndexedDB); the server receives its public half and a proof that you hold it.]]</p>
            </section>
            <p id="approval-message" data-state="" aria-live="polite"></p>
            <h2>[[あなたの承認待ち|Waiting for you]] ({{waitingCount}})</h2>
            {{#waiting}}<section class="request" id="request-{{id}}" data-request="{{id}}" data-digest="{{digest}}">
            <h2>#{{id}} {{action}}</h2>
            <p class="what"><b>{{sentence}}</b></p>
            <table class="payload">{{#fields}}<tr><th>{{key}}</th><td>{{value}}</td></tr>{{/fields}}</table>
            <p>[[起票|filed by]] {{filedBy}} · [[方針|policy]]: {{policy}} · [[期限|expires]] {{expires}} · [[状況|status]]: {{status}}</p>
            <p>[[署名対象: 正規化 JSON|You sign SHA-256]] <code class="digest">{{digest}}</code> [[の SHA-256|of the canonical JSON]] <code class="canonical">{{canonical}}</code></p>
            <button class="approve" data-request="{{id}}" data-digest="{{digest}}">[[承認して署名|Approve and sign]]</button>
            </section>{{/waiting}}{{^waiting}}<p id="nothing-waiting">[[ありません|Nothing waits for you.]]</p>{{/waiting}}
            <h2>[[その他の未決|Other open requests]]</h2>
            {{^others}}<p id="no-other-requests">[[ほかに未決の申請はありません|No other request is open.]]</p>{{/others}}
            {{#hasOthers}}<table id="other-requests"><tr><th>#</th><th>[[操作|action]]</th><th>[[方針|policy]]</th><th>[[起票|filed by]]</th></tr>
            {{#others}}<tr><td>{{id}}</td><td>{{action}}</td><td>{{policy}}</td><td>{{filedBy}}</td></tr>{{/others}}</table>{{/hasOthers}}
            <script src="{{script}}"></script>
            """,
    ]

    /// The templates, compiled once; a template that does not parse is reported by the first
    /// render (and by the test that renders every page).
    static let library: Result<MustacheLibrary, KinkoError> = {
        var library = MustacheLibrary()
        for (name, source) in sources {
            do { try library.register(ConsoleLanguage.marked(source), named: name) } catch {
                return .failure(KinkoError(.internalError, "console template \(name) does not parse: \(error)"))
            }
        }
        return .success(library)
    }()

    /// `name` rendered with `context`.
    static func render(_ name: String, _ context: [String: Any]) throws(KinkoError) -> String {
        guard let text = try library.get().render(context, withTemplate: name) else {
            throw KinkoError(.internalError, "no console template \(name)")
        }
        return text
    }
}
