// byokit from Kotlin: the flows of an app's "API configuration" and "Usage" pages. The same code
// runs on Android (copy bindings/ffi/build/kotlin into the app and ship libbyokit_ffi.so per ABI).
// With BYOKIT_SOCKET set to a running byokd, it also records the call there and reads the
// daemon's summary. Run by scripts/test-ffi.sh.
package example

import dev.byokit.*
import java.time.Instant
import java.time.temporal.ChronoUnit

fun main() {
    // 1. The user pastes a key: check its format before saving it, show it masked.
    val pasted = "sk-proj-Ex1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2Qr3St4Uv5Wx6Yz7Zz42"
    try {
        checkKey(Provider.ANTHROPIC, pasted)
    } catch (e: ByokitException.InvalidKey) {
        println("key check: ${e.reason}")
    }
    checkKey(Provider.OPENAI, pasted)
    println("saved key: ${maskKey(pasted)}")

    // 2. What a call will cost, before making it.
    val estimate = estimateCost(CostInput(Provider.OPENAI, "gpt-4o-mini", TokenUsage(inputTokens = 1_200uL, outputTokens = 400uL)))
    println("estimate: ${estimate.model} costs $${estimate.costUsd} (${estimate.status})")

    // 3. Build the request (send it with OkHttp or Ktor), then read the reply's exact usage.
    val request = buildChatRequest(
        Provider.OPENAI,
        ChatRequest(model = "gpt-4o", messages = listOf(ChatMessage(Role.USER, "What is the capital of Australia?"))),
        pasted,
        null,
    )
    println("request: ${request.method} ${request.url}")
    val replyBody = """{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"gpt-4o-2024-08-06",
        "choices":[{"index":0,"message":{"role":"assistant","content":"Canberra."},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":24,"completion_tokens":3,"total_tokens":27,
        "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"""
    val reply = usageFromResponse(Provider.OPENAI, replyBody.toByteArray())
    val cost = estimateCost(CostInput(Provider.OPENAI, reply.model, reply.usage))
    println("reply: \"${reply.text}\" used ${reply.totalTokens} tokens, cost $${cost.costUsd}")

    // 4. Record usage and show the usage page: here from events the app keeps itself...
    val now = Instant.now()
    val events = (0 until 30).map { day ->
        UsageEvent(now.minus(day.toLong(), ChronoUnit.DAYS), Provider.OPENAI, reply.model, if (day % 3 == 0) "summaries" else "chat",
            Payer.USER, reply.usage, cost.costUsd, cost.status)
    }
    val week = summarize(events, 7u, now, null, Budget("5", BudgetPolicy.ALLOW_AND_ALERT, defaultAlertThresholds()))
    println("last 7 days: ${week.totals.requests} calls, $${week.totals.costUsd}; budget used ${week.budget?.percentUsed}%")
    week.byFeature.forEach { println("  ${it.name.ifEmpty { "(none)" }}: ${it.totals.requests} calls, $${it.totals.costUsd}") }

    // ...or through byokd on a desktop, which stores keys encrypted and usage durably.
    val socket = System.getenv("BYOKIT_SOCKET") ?: return
    val daemon = DaemonClient.connect(socket)
    val recorded = daemon.usageRecord("example", UsageRecord(Provider.OPENAI, reply.model, reply.usage, feature = "chat"))
    val summary = daemon.usageSummary("example", 30u)
    println("byokd recorded usage #${recorded.id} ($${recorded.costUsd}); 30 days: ${summary.totals.requests} calls, $${summary.totals.costUsd}")
}
