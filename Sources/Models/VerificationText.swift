/// The text `lep verify` scores when no `--text` is given: a few paragraphs of plain English and
/// Russian prose written for this project (no external source), so that bits per byte can be
/// compared across tokenizers on both languages an LEP model is meant to handle.
public enum VerificationText {
    /// The bundled text (UTF-8, English then Russian).
    public static let `default` = """
        The harbour was quiet in the early morning. A few fishing boats rocked against the pier, their \
        ropes creaking as the tide came in, and an old man sat on an upturned crate mending a net. He \
        worked slowly, tying one knot after another, and looked up only when the gulls began to shout \
        over something in the water. Behind him the town was waking: shutters opened, a baker carried \
        trays of bread into a van, and somewhere a radio played a song that nobody seemed to be listening to.

        Learning a second language as an adult is less about memory than about patience. Words are easy \
        to collect; what takes time is the feeling for which of them belong together, how a sentence \
        should sound before it is finished, and when a polite phrase would seem cold. Most learners \
        notice that they understand far more than they can say, and that the gap closes only by speaking \
        badly for a long while, in front of people who are kind enough to wait.

        In 1969 the first message was sent between two computers on a network that would later grow into \
        the internet. The system crashed after the second letter. Engineers fixed the fault within an hour, \
        and the rest of the word arrived without trouble. Today a single phone exchanges more data in a \
        second than that network carried in a year.

        Осенью в деревне рано темнеет. К пяти часам над рекой поднимается туман, и дорога к станции \
        становится почти невидимой. Бабушка зажигает лампу на кухне, ставит чайник и раскладывает на столе \
        яблоки, собранные днём в саду. Внуки спорят о том, кто пойдёт за водой к колодцу, а собака лежит у \
        печки и делает вид, что ничего не слышит.

        Перевод хорошей книги похож на работу реставратора. Нужно сохранить не только смысл каждой фразы, \
        но и её ритм, её интонацию, те маленькие неровности, по которым читатель узнаёт автора. Буквальный \
        перевод часто оказывается самым неточным, потому что слова в разных языках несут разный груз \
        привычек и ассоциаций.

        В 1957 году в Советском Союзе был запущен первый искусственный спутник Земли. Он весил чуть больше \
        восьмидесяти килограммов и передавал по радио простой сигнал, который могли принимать любители по \
        всему миру. Через три месяца спутник сгорел в атмосфере, но за это время люди успели поверить, \
        что космос стал ближе.
        """
}
