// Parse Adaptive Cards with Microsoft's own library (npm `adaptivecards`) at version 1.5.
// Reads a JSON array of cards on stdin; prints a JSON array with, for each card, every parse event,
// every validation event, and the card as the library serialises it back (to catch properties it
// does not know and silently dropped).
const AC = require("adaptivecards/dist/adaptivecards.js");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const cards = JSON.parse(input);
  const results = cards.map((json) => {
    const card = new AC.AdaptiveCard();
    card.hostConfig = new AC.HostConfig({ supportsInteractivity: true });
    const context = new AC.SerializationContext(AC.Versions.v1_5);
    card.parse(json, context);
    const events = [];
    for (let i = 0; i < context.eventCount; i++) {
      const e = context.getEventAt(i);
      events.push({ phase: e.phase, event: e.event, message: e.message });
    }
    const validation = card.validateProperties().validationEvents.map((e) => ({
      phase: e.phase,
      event: e.event,
      message: e.message,
    }));
    return { events, validation, roundtrip: card.toJSON(new AC.SerializationContext(AC.Versions.v1_5)) };
  });
  process.stdout.write(JSON.stringify(results));
});
