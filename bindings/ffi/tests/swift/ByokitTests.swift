// byokit's Swift bindings, the same checks as the Kotlin tests: the shared provider fixtures give
// the same usage, errors and costs as in Rust; each error kind surfaces as its ByokitError case;
// the daemon client talks to a real byokd (BYOKIT_TEST_SOCKET, when set).
//
// scripts/ffi-generate.sh copies this file into the generated Swift package; run it there with
//   BYOKIT_FIXTURES=<repo>/tests/fixtures swift test -Xlinker -L<dir of libbyokit_ffi>
// (see bindings/ffi/README.md).

import Foundation
import XCTest

@testable import Byokit

private let fixtures = URL(fileURLWithPath: ProcessInfo.processInfo.environment["BYOKIT_FIXTURES"] ?? "tests/fixtures")

private func fixture(_ path: String) throws -> Data {
    try Data(contentsOf: fixtures.appendingPathComponent("providers").appendingPathComponent(path))
}

private func usageMap(_ u: TokenUsage) -> [String: UInt64] {
    [
        "input_tokens": u.inputTokens, "output_tokens": u.outputTokens,
        "cached_input_tokens": u.cachedInputTokens, "cache_write_tokens": u.cacheWriteTokens,
        "reasoning_tokens": u.reasoningTokens,
    ]
}

private func expectedUsage(_ v: Any?) -> [String: UInt64] {
    (v as? [String: Any] ?? [:]).mapValues { ($0 as? NSNumber)?.uint64Value ?? 0 }
}

/// `rateLimited` → `rate_limited`: an enum case as the fixtures name it.
private func snake(_ name: String) -> String {
    var out = ""
    for c in name {
        if c.isUppercase {
            out += "_" + c.lowercased()
        } else {
            out.append(c)
        }
    }
    return out
}

/// The case name of a ByokitError (`RateLimited` → `rate_limited`).
private func kindOf(_ error: Error) -> String {
    guard let e = error as? ByokitError else { return "not a ByokitError: \(error)" }
    let label = String(describing: e).prefix { $0 != "(" }
    return snake(String(label.prefix(1)).lowercased() + String(label.dropFirst()))
}

private func instant(_ text: String) -> Date {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.date(from: text) ?? ISO8601DateFormatter().date(from: text)!
}

final class FixtureTests: XCTestCase {
    func testSharedFixturesReadAsInRust() throws {
        let data = try fixture("expectations.json")
        let cases = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [[String: Any]]
        var checked = 0
        for c in cases {
            let name = "\(c["provider"]!) \(c["kind"]!) \(c["file"] ?? "")"
            let p = try providerFromName(name: c["provider"] as! String)
            let want = c["expect"] as! [String: Any]
            let body = try (c["file"] as? String).map(fixture) ?? Data()
            let headers = c["headers"] as? [String: String] ?? [:]
            switch c["kind"] as! String {
            case "response":
                let r = try usageFromResponse(provider: p, body: body)
                XCTAssertEqual(usageMap(r.usage), expectedUsage(want["usage"]), name)
                XCTAssertEqual(r.text, want["text"] as? String, name)
                XCTAssertEqual(r.model, want["model"] as? String, name)
                XCTAssertEqual(r.finishReason.map { snake(String(describing: $0)) }, want["finish_reason"] as? String, name)
            case "stream":
                let s = StreamUsage(provider: p)
                var deltas = ""
                do {
                    var i = 0
                    while i < body.count {
                        deltas += try s.push(chunk: body.subdata(in: i..<min(i + 7, body.count))).joined()
                        i += 7
                    }
                    let out = try s.finish()
                    XCTAssertEqual(out.text, want["text"] as? String, name)
                    XCTAssertEqual(deltas, out.text, name)
                    if want["usage"] is NSNull {
                        XCTAssertFalse(out.usageReported, name)
                        XCTAssertTrue(out.usage.estimated, name)
                    } else {
                        XCTAssertTrue(out.usageReported, name)
                        XCTAssertEqual(usageMap(out.usage), expectedUsage(want["usage"]), name)
                    }
                } catch {
                    let expected = (want["error"] as? [String: Any])?["kind"] as? String
                    XCTAssertEqual(kindOf(error), expected, name)
                }
            case "error":
                let status = UInt16((c["status"] as! NSNumber).intValue)
                let e = classifyError(provider: p, status: status, headers: headers, body: body)
                XCTAssertEqual(snake(String(describing: e.kind)), want["kind"] as? String, name)
                if let retry = want["retry_after_seconds"] as? NSNumber {
                    XCTAssertEqual(e.retryAfterSeconds ?? -1, retry.doubleValue, accuracy: 1e-6, name)
                } else {
                    XCTAssertNil(e.retryAfterSeconds, name)
                }
                if let message = want["message"] as? String {
                    XCTAssertEqual(e.message, message, name)
                }
            case "models":
                let status = UInt16((c["status"] as! NSNumber).intValue)
                let now = instant("2025-06-01T00:00:00Z")
                if want["outcome"] as? String == "valid" {
                    let t = try interpretTestResponse(provider: p, status: status, headers: headers, body: body, now: now)
                    XCTAssertEqual(t.models, want["models"] as? [String], name)
                } else {
                    XCTAssertThrowsError(try interpretTestResponse(provider: p, status: status, headers: headers, body: body, now: now), name) {
                        XCTAssertEqual(kindOf($0), want["outcome"] as? String, name)
                    }
                }
            case "rate_limits":
                let got = try readRateLimits(provider: p, headers: headers, now: instant(c["now"] as! String))
                let numbers: [String: UInt64?] = [
                    "requests_limit": got.requestsLimit, "requests_remaining": got.requestsRemaining,
                    "tokens_limit": got.tokensLimit, "tokens_remaining": got.tokensRemaining,
                    "input_tokens_limit": got.inputTokensLimit, "input_tokens_remaining": got.inputTokensRemaining,
                    "output_tokens_limit": got.outputTokensLimit, "output_tokens_remaining": got.outputTokensRemaining,
                ]
                let instants: [String: Date?] = [
                    "requests_reset_at": got.requestsResetAt, "tokens_reset_at": got.tokensResetAt,
                    "input_tokens_reset_at": got.inputTokensResetAt, "output_tokens_reset_at": got.outputTokensResetAt,
                ]
                for (field, value) in want {
                    if let text = value as? String {
                        let actual = instants[field] ?? nil
                        XCTAssertEqual(actual?.timeIntervalSince1970 ?? -1, instant(text).timeIntervalSince1970, accuracy: 1e-3, "\(name) \(field)")
                    } else {
                        XCTAssertEqual(numbers[field] ?? nil, (value as! NSNumber).uint64Value, "\(name) \(field)")
                    }
                }
            default:
                continue
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 70)
    }

    func testGoldenPrices() throws {
        let csv = try String(contentsOf: fixtures.appendingPathComponent("prices/golden.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst()
        XCTAssertGreaterThan(rows.count, 30)
        for row in rows {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let p = try providerFromName(name: f[0])
            // 100,000 tokens: a tenth of the price per million, below every long-prompt tier.
            let input = try estimateCost(input: CostInput(provider: p, model: f[1], usage: TokenUsage(inputTokens: 100_000)))
            XCTAssertEqual(Decimal(string: input.costUsd ?? ""), Decimal(string: f[2])! / 10, f[1])
            let output = try estimateCost(input: CostInput(provider: p, model: f[1], usage: TokenUsage(outputTokens: 100_000)))
            XCTAssertEqual(Decimal(string: output.costUsd ?? ""), Decimal(string: f[3])! / 10, f[1])
        }
    }
}

final class ApiTests: XCTestCase {
    let now = instant("2026-11-28T12:00:00Z")

    func testErrorsAreTypedCases() throws {
        XCTAssertThrowsError(try estimateCost(input: CostInput(provider: .openai, model: "gpt-4o-mni", usage: TokenUsage()))) {
            guard case ByokitError.UnknownModel(let reason, let suggestions) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("gpt-4o-mini"))
            XCTAssertEqual(suggestions.first, "gpt-4o-mini")
        }
        XCTAssertThrowsError(try providerFromName(name: "nosuch")) {
            XCTAssertEqual(kindOf($0), "unknown_provider")
        }
        XCTAssertThrowsError(try checkKey(provider: .openai, key: "sk-ant-api03-" + String(repeating: "a", count: 90))) {
            XCTAssertEqual($0 as? ByokitError, .InvalidKey(reason: "this looks like an API key for anthropic, not for openai"))
        }
        let capped = RoutingState(keys: [], system: defaultSystemKeyPolicy(), systemTokensUsed: 1_000_000)
        XCTAssertThrowsError(try route(state: capped, request: RouteInput(estimatedTokens: 1), now: now)) {
            guard case ByokitError.SystemCapReached(let reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("add your own API key"))
        }
        // A key resting after a rate limit: the refusal says when to come back.
        let resting = RoutingKey(id: "k2", provider: .openai, savedAt: now, state: .failing(until: now.addingTimeInterval(2.3)), requestsPerMinute: nil, requestsPerDay: nil, tokensPerMinute: nil)
        XCTAssertThrowsError(try route(state: RoutingState(keys: [resting]), request: RouteInput(), now: now)) {
            guard case ByokitError.RateLimited(_, let status, let retryAfterSeconds) = $0 else { return XCTFail("\($0)") }
            XCTAssertNil(status)
            XCTAssertEqual(retryAfterSeconds, 3.0)
        }
        XCTAssertThrowsError(try summarize(events: [], days: 0, now: now, systemTokenCap: nil, budget: nil)) {
            XCTAssertEqual(kindOf($0), "invalid_input")
        }
        XCTAssertThrowsError(try usageFromResponse(provider: .anthropic, body: fixture("anthropic/error_529_overloaded_error.json"))) {
            XCTAssertEqual(kindOf($0), "overloaded")
        }
    }

    func testCostsRoutingBudgetsAndSummaries() throws {
        let cost = try estimateCost(input: CostInput(provider: .openai, model: "gpt-4o", usage: TokenUsage(inputTokens: 2000, outputTokens: 300, cachedInputTokens: 1536)))
        XCTAssertEqual(cost.costUsd, "0.00608")
        XCTAssertEqual(cost.status, .exact)
        XCTAssertEqual(maskKey(key: "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1a1b2"), "sk-proj-…a1b2")

        let key = RoutingKey(id: "k1", provider: .groq, savedAt: now.addingTimeInterval(-86_400), state: .ok, requestsPerMinute: 60, requestsPerDay: 7000, tokensPerMinute: nil)
        let decision = try route(state: RoutingState(keys: [key], system: defaultSystemKeyPolicy()), request: RouteInput(feature: "chat"), now: now)
        XCTAssertEqual(decision.provider, .groq)
        XCTAssertEqual(decision.payer, .user)
        XCTAssertEqual(decision.keyId, "k1")

        let budget = Budget(monthlyLimitUsd: "10", policy: .block, alertThresholds: defaultAlertThresholds())
        XCTAssertEqual(try budgetStatus(budget: budget, spentUsd: "8.5", now: now).percentUsed, "85")
        XCTAssertEqual(try budgetAlerts(budget: budget, firedThisMonth: [50], spentUsd: "8.5", now: now).map(\.thresholdPercent), [80])

        let events = (0..<10).map {
            UsageEvent(at: now.addingTimeInterval(-86_400 * Double($0)), provider: .openai, model: "gpt-4o", feature: "chat", payer: .user,
                       usage: TokenUsage(inputTokens: 100, outputTokens: 10), costUsd: "0.00035", costStatus: .exact)
        }
        let summary = try summarize(events: events, days: 7, now: now, systemTokenCap: nil, budget: nil)
        XCTAssertEqual(summary.totals.requests, 7)
        XCTAssertEqual(summary.totals.costUsd, "0.00245")
        XCTAssertEqual(summary.byDay.count, 8) // a 7-day window ending at noon touches 8 UTC days
    }

    func testDaemonClient() throws {
        guard let socket = ProcessInfo.processInfo.environment["BYOKIT_TEST_SOCKET"] else {
            throw XCTSkip("BYOKIT_TEST_SOCKET is not set: start byokd and point this at its socket")
        }
        let client = try DaemonClient.connect(socket: socket)
        XCTAssertEqual(try client.status().socket, socket)
        let key = "sk-proj-Sw1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2Qr3St4Uv5Wx6Yz7s9T1"
        let saved = try client.configSave(user: "swift", provider: .openai, apiKey: key, model: nil, baseUrl: nil)
        XCTAssertEqual(saved.maskedKey, "sk-proj-…s9T1")
        let record = UsageRecord(provider: .anthropic, model: "claude-sonnet-4", usage: TokenUsage(inputTokens: 1000, outputTokens: 1000), idempotencyKey: "swift-1")
        XCTAssertEqual(try client.usageRecord(user: "swift", record: record).costUsd, "0.018")
        XCTAssertTrue(try client.usageRecord(user: "swift", record: record).duplicate)
        XCTAssertEqual(try client.usageSummary(user: "swift", days: 30).totals.costUsd, "0.018")
        // A request over byokd's 1 MiB limit fails at once, before it is sent.
        let big = UsageRecord(provider: .openai, model: "gpt-4o", usage: TokenUsage(inputTokens: 1), feature: String(repeating: "x", count: 2 * 1024 * 1024))
        XCTAssertThrowsError(try client.usageRecord(user: "swift", record: big)) {
            guard case ByokitError.InvalidInput(let reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("over byokd's limit of 1048576 bytes"))
        }
        XCTAssertEqual(try client.status().socket, socket)
        XCTAssertThrowsError(try DaemonClient.connect(socket: socket + ".nothing-here")) {
            XCTAssertEqual(kindOf($0), "daemon_unreachable")
        }
    }
}
