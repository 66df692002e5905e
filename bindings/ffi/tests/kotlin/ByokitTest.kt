// byokit's Kotlin bindings on the JVM: the shared provider fixtures give the same usage, errors
// and costs as in Rust; each error kind surfaces as its exception; the daemon client talks to a
// real byokd (BYOKIT_TEST_SOCKET) that calls a mock OpenAI server run here.
// Run by scripts/test-ffi.sh.

import com.sun.net.httpserver.HttpServer
import dev.byokit.*
import java.io.File
import java.math.BigDecimal
import java.net.InetSocketAddress
import java.time.Instant
import java.time.temporal.ChronoUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

val fixtures = File(System.getenv("BYOKIT_FIXTURES") ?: error("BYOKIT_FIXTURES is not set"))

/** A small JSON reader for the fixtures (the JVM has none built in). */
class Json(private val s: String) {
    private var i = 0
    fun parse(): Any? = value().also { ws(); require(i == s.length) { "trailing JSON at $i" } }
    private fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }
    private fun value(): Any? {
        ws()
        return when (s[i]) {
            '{' -> { i++; val m = LinkedHashMap<String, Any?>(); ws()
                if (s[i] == '}') { i++; return m }
                while (true) { ws(); val k = string(); ws(); i++ /* : */; m[k] = value(); ws()
                    if (s[i++] == '}') return m } }
            '[' -> { i++; val l = ArrayList<Any?>(); ws()
                if (s[i] == ']') { i++; return l }
                while (true) { l.add(value()); ws(); if (s[i++] == ']') return l } }
            '"' -> string()
            't' -> { i += 4; true }
            'f' -> { i += 5; false }
            'n' -> { i += 4; null }
            else -> { val start = i
                while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
                BigDecimal(s.substring(start, i)) }
        }
    }
    private fun string(): String {
        val b = StringBuilder(); i++
        while (s[i] != '"') {
            if (s[i] == '\\') {
                i++
                when (s[i]) {
                    'n' -> b.append('\n'); 't' -> b.append('\t'); 'r' -> b.append('\r')
                    'b' -> b.append('\b'); 'f' -> b.append('\u000c')
                    'u' -> { b.append(s.substring(i + 1, i + 5).toInt(16).toChar()); i += 4 }
                    else -> b.append(s[i])
                }
            } else b.append(s[i])
            i++
        }
        i++
        return b.toString()
    }
}

@Suppress("UNCHECKED_CAST")
fun Any?.obj() = this as Map<String, Any?>
@Suppress("UNCHECKED_CAST")
fun Any?.list() = this as List<Any?>
fun Any?.num() = (this as BigDecimal)

fun usageMap(u: TokenUsage) = mapOf(
    "input_tokens" to u.inputTokens.toLong(), "output_tokens" to u.outputTokens.toLong(),
    "cached_input_tokens" to u.cachedInputTokens.toLong(), "cache_write_tokens" to u.cacheWriteTokens.toLong(),
    "reasoning_tokens" to u.reasoningTokens.toLong(),
)
fun expectedUsage(v: Any?) = v.obj().mapValues { it.value.num().toLong() }
fun headers(c: Map<String, Any?>) = (c["headers"]?.obj() ?: emptyMap()).mapValues { it.value as String }
fun snake(e: Enum<*>?) = e?.name?.lowercase()
/** `RateLimited` → `rate_limited`: an exception's class as the fixtures name the error kind. */
fun kindOf(e: Throwable) = e::class.simpleName!!.replace(Regex("([a-z])([A-Z])"), "$1_$2").lowercase()

fun fixtureCases(): Int {
    val cases = Json(File(fixtures, "providers/expectations.json").readText()).parse().obj()["cases"].list()
    var checked = 0
    for (raw in cases) {
        val c = raw.obj()
        val name = "${c["provider"]} ${c["kind"]} ${c["file"]}"
        val p = providerFromName(c["provider"] as String)
        val want = c["expect"].obj()
        val body = c["file"]?.let { File(fixtures, "providers/$it").readBytes() }
        when (c["kind"]) {
            "response" -> {
                val r = usageFromResponse(p, body!!)
                assertEquals(expectedUsage(want["usage"]), usageMap(r.usage), name)
                assertEquals(want["text"], r.text, name)
                assertEquals(want["model"], r.model, name)
                assertEquals(want["finish_reason"], snake(r.finishReason), name)
            }
            "stream" -> {
                val s = StreamUsage(p)
                val deltas = StringBuilder()
                try {
                    for (i in body!!.indices step 7) s.push(body.copyOfRange(i, minOf(i + 7, body.size))).forEach { deltas.append(it) }
                    val out = s.finish()
                    assertEquals(want["text"], out.text, name)
                    assertEquals(out.text, deltas.toString(), name)
                    if (want["usage"] == null) {
                        assertTrue(!out.usageReported && out.usage.estimated, name)
                    } else {
                        assertTrue(out.usageReported, name)
                        assertEquals(expectedUsage(want["usage"]), usageMap(out.usage), name)
                    }
                } catch (e: ByokitException) {
                    assertEquals(want["error"].obj()["kind"], kindOf(e), name)
                }
            }
            "error" -> {
                val e = classifyError(p, (c["status"].num().toInt()).toUShort(), headers(c), body!!)
                assertEquals(want["kind"], snake(e.kind), name)
                val retry = want["retry_after_seconds"]
                if (retry == null) assertNull(e.retryAfterSeconds, name)
                else assertEquals(retry.num().toDouble(), e.retryAfterSeconds!!, 1e-6, name)
                (want["message"] as String?)?.let { assertEquals(it, e.message, name) }
            }
            "models" -> {
                val now = Instant.parse("2025-06-01T00:00:00Z")
                val status = c["status"].num().toInt().toUShort()
                if (want["outcome"] == "valid") {
                    assertEquals(want["models"], interpretTestResponse(p, status, headers(c), body!!, now).models, name)
                } else {
                    val e = assertFailsWith<ByokitException>(name) { interpretTestResponse(p, status, headers(c), body!!, now) }
                    assertEquals(want["outcome"], kindOf(e), name)
                }
            }
            "rate_limits" -> {
                val got = readRateLimits(p, headers(c), Instant.parse(c["now"] as String))
                val fields = mapOf(
                    "requests_limit" to got.requestsLimit, "requests_remaining" to got.requestsRemaining,
                    "requests_reset_at" to got.requestsResetAt, "tokens_limit" to got.tokensLimit,
                    "tokens_remaining" to got.tokensRemaining, "tokens_reset_at" to got.tokensResetAt,
                    "input_tokens_limit" to got.inputTokensLimit, "input_tokens_remaining" to got.inputTokensRemaining,
                    "input_tokens_reset_at" to got.inputTokensResetAt, "output_tokens_limit" to got.outputTokensLimit,
                    "output_tokens_remaining" to got.outputTokensRemaining, "output_tokens_reset_at" to got.outputTokensResetAt,
                )
                for ((k, v) in want) {
                    val actual = fields.getValue(k)
                    if (k.endsWith("_at")) assertEquals(Instant.parse(v as String), actual, "$name $k")
                    else assertEquals(v.num().toLong().toULong(), actual, "$name $k")
                }
            }
        }
        checked++
    }
    assertTrue(checked >= 70, "$checked cases")
    return checked
}

fun goldenPrices(): Int {
    val rows = File(fixtures, "prices/golden.csv").readLines().drop(1).filter { it.isNotBlank() }
    for (row in rows) {
        val f = row.split(',')
        val p = providerFromName(f[0])
        // 100,000 tokens: a tenth of the price per million, below every long-prompt tier.
        val input = estimateCost(CostInput(p, f[1], TokenUsage(inputTokens = 100_000uL)))
        assertEquals(0, BigDecimal(f[2]).divide(BigDecimal.TEN).compareTo(BigDecimal(input.costUsd)), "${f[1]} input")
        val output = estimateCost(CostInput(p, f[1], TokenUsage(outputTokens = 100_000uL)))
        assertEquals(0, BigDecimal(f[3]).divide(BigDecimal.TEN).compareTo(BigDecimal(output.costUsd)), "${f[1]} output")
    }
    return rows.size
}

fun errorsAreExceptions() {
    val unknown = assertFailsWith<ByokitException.UnknownModel> {
        estimateCost(CostInput(Provider.OPENAI, "gpt-4o-mni", TokenUsage()))
    }
    assertTrue(unknown.reason.contains("gpt-4o-mini"))
    assertEquals("gpt-4o-mini", unknown.suggestions.first())
    assertFailsWith<ByokitException.UnknownProvider> { providerFromName("nosuch") }
    val key = assertFailsWith<ByokitException.InvalidKey> { checkKey(Provider.OPENAI, "sk-ant-api03-" + "a".repeat(90)) }
    assertEquals("this looks like an API key for anthropic, not for openai", key.reason)
    assertFailsWith<ByokitException.InvalidCatalog> {
        Catalog.load("[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2025-01-01\"\ninput = \"cheap\"\noutput = \"1\"\n", "2026-11-28")
    }
    assertFailsWith<ByokitException.InvalidInput> { summarize(emptyList(), 0u, Instant.now(), null, null) }
    assertFailsWith<ByokitException.InvalidInput> {
        budgetStatus(Budget("ten", BudgetPolicy.BLOCK, defaultAlertThresholds()), "1", Instant.now())
    }
    // Instants outside what byokit handles are an error, not a crash.
    assertFailsWith<ByokitException.InvalidInput> { readRateLimits(Provider.OPENAI, emptyMap(), Instant.MAX) }
    val overloaded = File(fixtures, "providers/anthropic/error_529_overloaded_error.json").readBytes()
    assertFailsWith<ByokitException.Overloaded> { usageFromResponse(Provider.ANTHROPIC, overloaded) }
    val now = Instant.parse("2026-11-28T12:00:00Z")
    val policy = defaultSystemKeyPolicy()
    val capped = RoutingState(keys = emptyList(), system = policy, systemTokensUsed = 1_000_000uL)
    val cap = assertFailsWith<ByokitException.SystemCapReached> { route(capped, RouteInput(estimatedTokens = 1uL), now) }
    assertTrue(cap.reason.contains("add your own API key"))
    assertFailsWith<ByokitException.NoKey> { route(RoutingState(keys = emptyList()), RouteInput(), now) }
    val revoked = RoutingKey("k1", Provider.OPENAI, now, KeyState.Invalid("revoked"), null, null, null)
    assertFailsWith<ByokitException.InvalidKey> { route(RoutingState(keys = listOf(revoked), system = policy), RouteInput(), now) }
    // A key resting after a rate limit: the refusal says when to come back.
    val resting = RoutingKey("k2", Provider.OPENAI, now, KeyState.Failing(now.plusMillis(2300)), null, null, null)
    val limited = assertFailsWith<ByokitException.RateLimited> { route(RoutingState(keys = listOf(resting)), RouteInput(), now) }
    assertEquals(3.0, limited.retryAfterSeconds)
    assertNull(limited.status)
}

fun rules() {
    val now = Instant.parse("2026-11-28T12:00:00Z")
    val key = RoutingKey("k1", Provider.GROQ, now.minus(1, ChronoUnit.DAYS), KeyState.Ok, 60u, 7000u, null)
    val d = route(RoutingState(keys = listOf(key), system = defaultSystemKeyPolicy()), RouteInput(feature = "chat"), now)
    assertEquals(Provider.GROQ, d.provider)
    assertEquals(Payer.USER, d.payer)
    assertEquals("k1", d.keyId)
    assertTrue(d.explanation.isNotEmpty())

    val budget = Budget("10", BudgetPolicy.BLOCK, defaultAlertThresholds())
    assertEquals("85", budgetStatus(budget, "8.5", now).percentUsed)
    assertEquals(listOf(80u), budgetAlerts(budget, listOf(50u), "8.5", now).map { it.thresholdPercent })

    val events = (0 until 10).map {
        UsageEvent(now.minus(it.toLong(), ChronoUnit.DAYS), Provider.OPENAI, "gpt-4o", "chat", Payer.USER,
            TokenUsage(inputTokens = 100uL, outputTokens = 10uL), "0.00035", CostStatus.EXACT)
    }
    val s = summarize(events, 7u, now, 1_000_000uL, budget)
    assertEquals(7uL, s.totals.requests)
    assertEquals("0.00245", s.totals.costUsd)
    assertEquals(8, s.byDay.size) // a 7-day window ending at noon touches 8 UTC days
    assertEquals(listOf("openai" to 7uL), s.byProvider.map { it.name to it.totals.requests })
    // Each day split by provider: seven days with one OpenAI call each.
    assertEquals(7, s.byDay.count { day -> day.byProvider.map { it.name to it.totals.requests } == listOf("openai" to 1uL) })

    val cost = estimateCost(CostInput(Provider.OPENAI, "gpt-4o", TokenUsage(inputTokens = 2000uL, cachedInputTokens = 1536uL, outputTokens = 300uL)))
    assertEquals("0.00608", cost.costUsd)
    assertEquals(0, cost.lines.map { BigDecimal(it.costUsd) }.fold(BigDecimal.ZERO, BigDecimal::add).compareTo(BigDecimal("0.00608")))
    assertEquals("sk-proj-…a1b2", maskKey("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1a1b2"))
}

fun daemonClient() {
    val socket = System.getenv("BYOKIT_TEST_SOCKET") ?: error("BYOKIT_TEST_SOCKET is not set")
    // A mock OpenAI on 127.0.0.1 answering every chat with the shared fixture.
    val reply = File(fixtures, "providers/openai/chat.json").readBytes()
    val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
    server.createContext("/v1/chat/completions") { ex ->
        val auth = ex.requestHeaders.getFirst("Authorization")
        val (status, body) = if (auth == "Bearer $OPENAI_KEY") 200 to reply
            else 401 to File(fixtures, "providers/openai/error_401_invalid_api_key.json").readBytes()
        ex.responseHeaders.add("content-type", "application/json")
        ex.sendResponseHeaders(status, body.size.toLong())
        ex.responseBody.use { it.write(body) }
    }
    server.start()
    try {
        val client = DaemonClient.connect(socket)
        assertEquals(socket, client.status().socket)
        val saved = client.configSave("kotlin", Provider.OPENAI, OPENAI_KEY, "gpt-4o", "http://127.0.0.1:${server.address.port}/v1")
        assertEquals("sk-proj-…x4Q9", saved.maskedKey)
        assertTrue(saved.isActive)
        assertEquals(listOf("sk-proj-…x4Q9"), client.configGet("kotlin").map { it.maskedKey })
        assertTrue(client.configGet("someone-else").isEmpty())

        val chat = client.chat("kotlin", DaemonChatRequest(messages = listOf(ChatMessage(Role.USER, "Capital of Australia?")), feature = "kotlin-test"))
        assertEquals("The capital of Australia is Canberra.", chat.text)
        assertEquals(Payer.USER, chat.payer)
        assertEquals(CostStatus.EXACT, chat.costStatus)

        val record = UsageRecord(Provider.ANTHROPIC, "claude-sonnet-4", TokenUsage(inputTokens = 1000uL, outputTokens = 1000uL),
            feature = "summaries", idempotencyKey = "kotlin-1")
        val first = client.usageRecord("kotlin", record)
        assertEquals("0.018", first.costUsd)
        assertTrue(client.usageRecord("kotlin", record).duplicate)

        val summary = client.usageSummary("kotlin", 30u)
        assertEquals(2uL, summary.totals.requests)
        assertEquals(setOf("kotlin-test", "summaries"), summary.byFeature.map { it.name }.toSet())
        assertEquals(BigDecimal("0.018").add(BigDecimal(chat.costUsd)).compareTo(BigDecimal(summary.totals.costUsd)), 0)

        assertEquals(Provider.OPENAI, client.route("kotlin", RouteInput()).provider)
        // The daemon refuses a wrong key with the provider's reason, as InvalidKey.
        client.configSave("kotlin", Provider.OPENAI, OPENAI_KEY.replace("x4Q9", "zzzz"), null, "http://127.0.0.1:${server.address.port}/v1")
        assertFailsWith<ByokitException.InvalidKey> {
            client.chat("kotlin", DaemonChatRequest(messages = listOf(ChatMessage(Role.USER, "Hi"))))
        }
        assertFailsWith<ByokitException.InvalidKey> { client.configSave("kotlin", Provider.OPENAI, "not a key", null, null) }
        // A model the catalog does not know, named in routing settings: UnknownModel, with the name meant.
        val unknown = assertFailsWith<ByokitException.UnknownModel> {
            client.callRaw("routing.set", """{"user": "kotlin", "feature_models": {"x": {"provider": "openai", "model": "gpt-4o-mni"}}}""")
        }
        assertTrue(unknown.reason.contains("gpt-4o-mini"))
        assertFailsWith<ByokitException.DaemonUnreachable> { DaemonClient.connect("$socket.nothing-here") }
        // A request over byokd's 1 MiB limit fails at once, before it is sent; the connection
        // goes on serving.
        val big = UsageRecord(Provider.OPENAI, "gpt-4o", TokenUsage(inputTokens = 1uL), feature = "x".repeat(2 * 1024 * 1024))
        val pool = java.util.concurrent.Executors.newSingleThreadExecutor { r -> Thread(r).apply { isDaemon = true } }
        val outcome = pool.submit<Throwable?> {
            try { client.usageRecord("kotlin", big); null } catch (e: Throwable) { e }
        }
        val failure = try {
            outcome.get(10, java.util.concurrent.TimeUnit.SECONDS)
        } catch (e: java.util.concurrent.TimeoutException) {
            throw AssertionError("no answer within 10 s: the call hangs")
        }
        assertTrue(failure is ByokitException.InvalidInput, "$failure")
        assertTrue(failure.reason.contains("over byokd's limit of 1048576 bytes; it was not sent"), failure.reason)
        assertEquals(socket, client.status().socket)
    } finally {
        server.stop(0)
    }
}

const val OPENAI_KEY = "sk-proj-Kt1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2Qr3St4Uv5Wx6Yz7x4Q9"

fun main() {
    val tests = listOf(
        "shared provider fixtures" to { "${fixtureCases()} cases" },
        "golden prices" to { "${goldenPrices()} models" },
        "errors are exceptions" to { errorsAreExceptions(); "" },
        "routing, budgets, summaries" to { rules(); "" },
        "daemon client against byokd" to { daemonClient(); "" },
    )
    var failed = 0
    for ((name, test) in tests) {
        try {
            println("ok   $name ${test()}")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
            e.printStackTrace()
        }
    }
    if (failed > 0) {
        println("$failed of ${tests.size} Kotlin tests failed")
        kotlin.system.exitProcess(1)
    }
    println("all ${tests.size} Kotlin tests passed")
}
