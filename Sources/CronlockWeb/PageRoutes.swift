import CronlockCore
import Hummingbird

/// The server-rendered pages: Jobs, a job, Live, Masters, and the login form. They work without
/// JavaScript; the forms POST with the CSRF token and redirect back (303).
enum PageRoutes {
    static func add(to router: Router<WebContext>, dashboard: Dashboard, templates: Templates) {
        let tokens = dashboard.settings.tokens
        router.get("/") { request, context in
            let group = try APIRoutes.group(of: request)
            let all = try await dashboard.jobs(group: nil)
            let jobs = all.filter { group == nil || $0.group == group }
            let groups = Set(all.map(\.group)).sorted().map { ["name": $0, "selected": $0 == group] as [String: Any] }
            return templates.page("jobs", common(context, tokens, title: "Jobs", nav: "navJobs").merging([
                "rows": jobs.map(JobRow.html).joined(), "empty": jobs.isEmpty, "groups": groups, "count": jobs.count,
            ]) { $1 })
        }
        router.get("/jobs/{name}") { request, context in
            let keys = try await APIRoutes.keys(context, dashboard)
            let (page, size) = try APIRoutes.paging(request)
            async let job = dashboard.job(keys)
            async let history = dashboard.history(keys, page: page, size: size)
            async let holders = dashboard.holders(keys)
            let (runs, more) = try await history
            let url = "/jobs/" + PathText.escaped(keys.name)
            var values = common(context, tokens, title: keys.name, nav: "navJobs")
            values.merge([
                "job": try await job, "runs": runs, "holders": try await holders, "chart": DurationChart.svg(runs), "jobURL": url,
                "canOperate": context.role == .operator,
                "readOnlyNote": tokens.required ? "Log in with the operator's token to pause, resume or stop." : "This dashboard is read-only (no --operator-token-file).",
            ]) { $1 }
            if page > 0 { values["newer"] = "\(url)?page=\(page - 1)&limit=\(size)" }
            if more { values["older"] = "\(url)?page=\(page + 1)&limit=\(size)" }
            values["flash"] = request.uri.queryParameters["done"].flatMap { flashes[String($0)] }
            return templates.page("job", values)
        }
        router.post("/jobs/{name}/pause") { request, context in
            let keys = try await APIRoutes.keys(context, dashboard)
            let form = try await ActionRequest.read(request)
            try await dashboard.pause(keys, for: try form.duration(), reason: form.trimmedReason, by: Dashboard.requester(context.role))
            return backToJob(keys, "paused")
        }
        router.post("/jobs/{name}/resume") { _, context in
            let keys = try await APIRoutes.keys(context, dashboard)
            let wasPaused = try await dashboard.resume(keys, by: Dashboard.requester(context.role))
            return backToJob(keys, wasPaused ? "resumed" : "not-paused")
        }
        router.post("/jobs/{name}/stop") { request, context in
            let keys = try await APIRoutes.keys(context, dashboard)
            let form = try await ActionRequest.read(request)
            _ = try await dashboard.stop(keys, reason: form.trimmedReason, by: Dashboard.requester(context.role))
            return backToJob(keys, "stop-requested")
        }
        router.get("/live") { _, context in
            templates.page("live", common(context, tokens, title: "Live", nav: "navLive"))
        }
        router.get("/masters") { _, context in
            var values = common(context, tokens, title: "Masters", nav: "navMasters")
            values["masters"] = await dashboard.masterHealth()
            return templates.page("masters", values)
        }
        router.get("/metrics") { _, _ in
            try await MetricsPage.render(dashboard: dashboard)
        }
        LoginRoutes.add(to: router, tokens: tokens, templates: templates)
    }

    /// What every page's layout shows: the role, the login state, the CSRF token for its forms.
    static func common(_ context: WebContext, _ tokens: AccessTokens, title: String, nav: String) -> [String: Any] {
        ["title": title, nav: true, "role": tokens.required ? context.role.name : "read-only", "loggedIn": context.viaCookie,
         "loginOffered": tokens.required, "csrf": context.csrfToken ?? ""]
    }

    /// What a form did, shown at the top of the job's page: the `done` query parameter names one
    /// (never free text, so a link cannot put words on the page).
    private static let flashes = [
        "paused": "Paused.", "resumed": "Resumed.", "not-paused": "It was not paused.",
        "stop-requested": "Asked the running run to stop; its host stops it within about a second.",
    ]

    /// 303 to the job's page with the message `done` names shown at its top.
    private static func backToJob(_ keys: JobKeys, _ done: String) -> Response {
        Response.redirect(to: "/jobs/\(PathText.escaped(keys.name))?done=\(done)", type: .normal)
    }
}
