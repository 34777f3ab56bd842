export default function Chat() { return <p>Chat is on its way.</p>; }
