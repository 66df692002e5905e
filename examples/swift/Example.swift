// byokit from Swift (iOS, macOS or Linux): the flows of an app's "API configuration" and "Usage"
// pages. Add the package generated in bindings/ffi/build/swift to the app, or run this example from
// that package with `swift run Example` (see bindings/ffi/README.md).

import Byokit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking // URLRequest and URLSession on Linux and Windows
#endif

func byokitExample() throws {
    // 1. The user pastes a key: check its format before saving it, show it masked.
    let pasted = "sk-proj-Ex1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2Qr3St4Uv5Wx6Yz7Zz42"
    do {
        try checkKey(provider: .openai, key: pasted)
        print("saved key: \(maskKey(key: pasted))")
    } catch ByokitError.InvalidKey(let message) {
        print("key check: \(message)")
    }

    // 2. What a call will cost, before making it.
    let estimate = try estimateCost(input: CostInput(provider: .openai, model: "gpt-4o-mini", usage: TokenUsage(inputTokens: 1_200, outputTokens: 400)))
    print("estimate: \(estimate.model) costs $\(estimate.costUsd ?? "unknown")")

    // 3. Build the request (send it with URLSession), then read the reply's exact usage.
    let request = try buildChatRequest(
        provider: .openai,
        request: ChatRequest(model: "gpt-4o", messages: [ChatMessage(role: .user, content: "What is the capital of Australia?")]),
        apiKey: pasted,
        options: nil
    )
    var urlRequest = URLRequest(url: URL(string: request.url)!)
    urlRequest.httpMethod = request.method
    for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
    urlRequest.httpBody = request.body?.data(using: .utf8)
    let replyBody = Data(#"{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Canberra."},"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":3,"total_tokens":27}}"#.utf8)
    let reply = try usageFromResponse(provider: .openai, body: replyBody)
    let cost = try estimateCost(input: CostInput(provider: .openai, model: reply.model, usage: reply.usage))
    print("reply: \"\(reply.text)\" used \(reply.totalTokens) tokens, cost $\(cost.costUsd ?? "unknown")")

    // 4. Record usage and show the usage page.
    let now = Date()
    let events = (0..<30).map { day in
        UsageEvent(at: now.addingTimeInterval(-86_400 * Double(day)), provider: .openai, model: reply.model,
                   feature: day % 3 == 0 ? "summaries" : "chat", payer: .user, usage: reply.usage,
                   costUsd: cost.costUsd, costStatus: cost.status)
    }
    let week = try summarize(events: events, days: 7, now: now, systemTokenCap: nil, budget: nil)
    print("last 7 days: \(week.totals.requests) calls, $\(week.totals.costUsd)")
    for group in week.byFeature {
        print("  \(group.name): \(group.totals.requests) calls, $\(group.totals.costUsd)")
    }
}
