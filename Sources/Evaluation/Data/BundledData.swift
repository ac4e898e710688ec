/// Evaluation data bundled with lep, written by the lep authors (original text, no third-party
/// content), so that `lep eval MODEL` works with no data argument. Each file uses the documented
/// format (see `TaskData`), and `BundledData.files` lets the CLI export them as a template for the
/// user's own `--data DIR`.
public enum BundledData {
    /// The bundled files, by relative path (`en/text.txt`, `ru/mc_single_token.jsonl`, ...), in a fixed order.
    public static let files: [(path: String, contents: String)] = [
        ("en/text.txt", #"""
The lighthouse at the end of the pier was painted white, but the sea wind had turned it the colour of old paper. Every evening at half past six the keeper climbed the ninety-two steps, wiped the lens with a soft cloth and lit the lamp. He had done this for eleven years, and in all that time he had missed only one evening, when a storm tore the door from its hinges and he spent the night holding it shut with his back.

Nobody in the town remembered when the last ship had actually needed the light. The harbour had silted up, the fishing boats now left from the new port up the coast, and the ferry had stopped running before the keeper was born. Still, the council paid his small salary, and every spring a man from the ministry came to check that the lamp was clean and the log book was filled in.

The log book was the keeper's favourite object. On the left page he wrote the time the lamp was lit, the wind and the state of the sea. On the right page, which nobody had asked him to fill, he wrote what he had seen: a seal asleep on the rocks, a boy teaching his sister to skim stones, three swans flying so low that he could hear their wings. After eleven years the right-hand pages had become a kind of history of the town, told entirely from the top of a tower.

One autumn a young woman from the university asked if she could read the book. She was studying how the coast had changed, she said, and old records were hard to find. The keeper hesitated, then handed her the first volume. She came back every Saturday for a month, copying numbers into a notebook and laughing quietly at the swans.

In her report she thanked him by name. It was the first time, he said later, that anyone had written his name in a book that was not his own.
"""# + "\n"),
        ("ru/text.txt", #"""
Станция стояла посреди степи, и поезда останавливались на ней всего на две минуты. Начальник станции, Пётр Ильич, встречал каждый состав в форменной фуражке, хотя пассажиры почти никогда не выходили. Летом над платформой висела пыль, зимой её заметало так, что по утрам приходилось откапывать дверь деревянной лопатой.

При станции был маленький сад. Жена Петра Ильича посадила в нём яблони ещё в тот год, когда они приехали, и теперь деревья давали больше яблок, чем семья могла съесть. Осенью она раскладывала яблоки в корзины и выносила их к поезду. Проводники знали об этом и заранее открывали двери вагонов, а пассажиры протягивали из окон мелочь и пустые пакеты.

Однажды в ноябре поезд опоздал на четыре часа. Начальник станции сидел у печки, слушал, как ветер гремит железом на крыше, и каждые полчаса выходил на платформу с фонарём. Когда состав наконец показался, из последнего вагона вышел мальчик лет десяти с большим рюкзаком. Он сказал, что едет к бабушке в соседнее село, но перепутал станцию.

Ночь мальчик провёл на диване в служебной комнате. Жена Петра Ильича напоила его чаем с яблочным вареньем, а сам Пётр Ильич долго звонил по телефону, пока не нашёл бабушку. Утром за мальчиком приехал трактор: другой дороги через раскисшее поле не было.

Через много лет на станцию пришло письмо. Бывший мальчик писал, что стал машинистом и теперь водит поезда по этой линии. Проезжая мимо, он всегда даёт короткий гудок, и Пётр Ильич, уже совсем седой, поднимает в ответ фуражку.
"""# + "\n"),
        ("en/copy.jsonl", #"""
{"id": "en-s01", "language": "en", "kind": "sentence", "text": "The kettle clicked off just as the rain began to fall."}
{"id": "en-s02", "language": "en", "kind": "sentence", "text": "Seven hundred and twelve books were returned to the library on Monday morning."}
{"id": "en-s03", "language": "en", "kind": "sentence", "text": "Please close the gate behind you, because the goats escape whenever they can."}
{"id": "en-s04", "language": "en", "kind": "sentence", "text": "Her bicycle had a red basket, a silver bell and a rear light that never worked."}
{"id": "en-s05", "language": "en", "kind": "sentence", "text": "At 4:35 p.m. the train from Leeds arrived at platform 9, twelve minutes late."}
{"id": "en-s06", "language": "en", "kind": "sentence", "text": "A quiet river can carry a surprising amount of sand to the sea."}
{"id": "en-s07", "language": "en", "kind": "sentence", "text": "The recipe asks for two eggs, 250 g of flour and a pinch of salt."}
{"id": "en-p01", "language": "en", "kind": "paragraph", "text": "Maps are arguments as much as pictures. Whoever draws one decides what to leave out: the footpath that crosses a farmer's field, the name a village used before the railway came, the marsh that floods every second winter. A good map admits these choices in its legend; a bad one pretends that the world simply looks like that."}
{"id": "en-p02", "language": "en", "kind": "paragraph", "text": "The old clock in the school hall ran four minutes fast for as long as anyone could remember. Teachers set their watches by it anyway, so the whole building lived four minutes ahead of the town. When a new caretaker finally corrected it, half the pupils missed their buses, and the clock was quietly set back to its old, wrong time."}
{"id": "en-p03", "language": "en", "kind": "paragraph", "text": "Bread dough needs time more than it needs effort. Mix the flour, water, salt and yeast, cover the bowl, and leave it somewhere warm for a few hours. The yeast does the slow work of building the structure, and by evening the dough has doubled in size, smells faintly of beer and is ready for the oven."}
"""# + "\n"),
        ("ru/copy.jsonl", #"""
{"id": "ru-s01", "language": "ru", "kind": "sentence", "text": "Чайник выключился как раз в тот момент, когда начался дождь."}
{"id": "ru-s02", "language": "ru", "kind": "sentence", "text": "В понедельник утром в библиотеку вернули семьсот двенадцать книг."}
{"id": "ru-s03", "language": "ru", "kind": "sentence", "text": "Закрывайте за собой калитку, иначе козы опять убегут в огород."}
{"id": "ru-s04", "language": "ru", "kind": "sentence", "text": "У её велосипеда была красная корзинка, серебристый звонок и фонарь, который никогда не горел."}
{"id": "ru-s05", "language": "ru", "kind": "sentence", "text": "В 16:35 поезд из Казани прибыл на девятый путь с опозданием на двенадцать минут."}
{"id": "ru-s06", "language": "ru", "kind": "sentence", "text": "Тихая река способна унести в море удивительно много песка."}
{"id": "ru-s07", "language": "ru", "kind": "sentence", "text": "Для теста нужны два яйца, 250 г муки и щепотка соли."}
{"id": "ru-p01", "language": "ru", "kind": "paragraph", "text": "Карта не только изображает местность, но и спорит о ней. Тот, кто её рисует, решает, что оставить за краем: тропинку через чужое поле, старое название деревни, болото, которое разливается каждую вторую зиму. Честная карта признаётся в этом в условных обозначениях, а нечестная делает вид, будто мир так и выглядит."}
{"id": "ru-p02", "language": "ru", "kind": "paragraph", "text": "Старые часы в школьном коридоре спешили на четыре минуты, сколько все себя помнили. Учителя всё равно сверяли по ним время, и школа жила на четыре минуты впереди города. Когда новый завхоз наконец их подвёл, половина учеников опоздала на автобус, и часы тихо вернули к прежнему, неправильному времени."}
{"id": "ru-p03", "language": "ru", "kind": "paragraph", "text": "Тесту для хлеба нужно не столько усилие, сколько время. Смешайте муку, воду, соль и дрожжи, накройте миску и оставьте её в тёплом месте на несколько часов. Дрожжи медленно сделают свою работу, и к вечеру тесто увеличится вдвое, запахнет хлебным квасом и будет готово для духовки."}
"""# + "\n"),
        ("en/mc_single_token.jsonl", #"""
{"id": "en-abcd-01", "prompt": "How many days are there in a leap year?\nA. 365\nB. 366\nC. 364\nD. 360\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-02", "prompt": "Which of these is a mammal?\nA. Shark\nB. Frog\nC. Whale\nD. Eagle\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-abcd-03", "prompt": "What do plants mainly take in from the air to make sugar?\nA. Oxygen\nB. Carbon dioxide\nC. Nitrogen\nD. Helium\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-04", "prompt": "What is 7 multiplied by 8?\nA. 54\nB. 56\nC. 64\nD. 48\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-05", "prompt": "Which direction does the sun rise in?\nA. East\nB. West\nC. North\nD. South\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 0, "answer_prefix": "Answer:"}
{"id": "en-abcd-06", "prompt": "Water boils at sea level at what temperature in degrees Celsius?\nA. 90\nB. 50\nC. 100\nD. 120\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-abcd-07", "prompt": "Which word is the opposite of \"ancient\"?\nA. Old\nB. Modern\nC. Historic\nD. Broken\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-08", "prompt": "Which instrument has black and white keys?\nA. Violin\nB. Drum\nC. Flute\nD. Piano\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 3, "answer_prefix": "Answer:"}
{"id": "en-abcd-09", "prompt": "If a shop opens at 9 and closes at 17, how many hours is it open?\nA. 6\nB. 7\nC. 8\nD. 9\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-abcd-10", "prompt": "Which of these is used to measure temperature?\nA. Thermometer\nB. Barometer\nC. Ruler\nD. Compass\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 0, "answer_prefix": "Answer:"}
{"id": "en-abcd-11", "prompt": "What is the plural of \"mouse\"?\nA. Mouses\nB. Mice\nC. Mousen\nD. Meese\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-12", "prompt": "Which season follows spring?\nA. Winter\nB. Autumn\nC. Summer\nD. Spring\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-abcd-13", "prompt": "A triangle has how many sides?\nA. Two\nB. Three\nC. Four\nD. Five\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-abcd-14", "prompt": "Ice is the solid form of which substance?\nA. Salt\nB. Sand\nC. Water\nD. Glass\nAnswer with a single letter.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Answer:"}
{"id": "en-yesno-01", "prompt": "Is the following sentence grammatically correct? \"She have two brothers.\"\nAnswer \"Yes\" or \"No\".", "choices": ["Yes", "No"], "answer": 1, "answer_prefix": "Answer:"}
{"id": "en-yesno-02", "prompt": "Is the following sentence grammatically correct? \"They were tired after the long walk.\"\nAnswer \"Yes\" or \"No\".", "choices": ["Yes", "No"], "answer": 0, "answer_prefix": "Answer:"}
{"id": "en-yesno-03", "prompt": "Does the second sentence follow from the first? \"Tom locked the door and left.\" \"Tom left.\"\nAnswer \"Yes\" or \"No\".", "choices": ["Yes", "No"], "answer": 0, "answer_prefix": "Answer:"}
{"id": "en-yesno-04", "prompt": "Does the second sentence follow from the first? \"It rained all day.\" \"The streets stayed dry.\"\nAnswer \"Yes\" or \"No\".", "choices": ["Yes", "No"], "answer": 1, "answer_prefix": "Answer:"}
"""# + "\n"),
        ("ru/mc_single_token.jsonl", #"""
{"id": "ru-abcd-01", "prompt": "Сколько дней в високосном году?\nA. 365\nB. 366\nC. 364\nD. 360\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-02", "prompt": "Кто из перечисленных — млекопитающее?\nA. Акула\nB. Лягушка\nC. Кит\nD. Орёл\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-03", "prompt": "Какой газ растения поглощают из воздуха, чтобы образовать сахар?\nA. Кислород\nB. Углекислый газ\nC. Азот\nD. Гелий\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-04", "prompt": "Сколько будет семью восемь?\nA. 54\nB. 56\nC. 64\nD. 48\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-05", "prompt": "С какой стороны восходит солнце?\nA. С востока\nB. С запада\nC. С севера\nD. С юга\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 0, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-06", "prompt": "При какой температуре (в градусах Цельсия) кипит вода на уровне моря?\nA. 90\nB. 50\nC. 100\nD. 120\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-07", "prompt": "Какое слово противоположно по смыслу слову «древний»?\nA. Старый\nB. Современный\nC. Исторический\nD. Сломанный\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-08", "prompt": "У какого инструмента чёрные и белые клавиши?\nA. Скрипка\nB. Барабан\nC. Флейта\nD. Фортепиано\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 3, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-09", "prompt": "Магазин открывается в 9 и закрывается в 17. Сколько часов он работает?\nA. 6\nB. 7\nC. 8\nD. 9\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-10", "prompt": "Каким прибором измеряют температуру?\nA. Термометром\nB. Барометром\nC. Линейкой\nD. Компасом\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 0, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-11", "prompt": "Как правильно: множественное число слова «ухо»?\nA. Ухи\nB. Уши\nC. Ухов\nD. Ушей\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-12", "prompt": "Какое время года наступает после весны?\nA. Зима\nB. Осень\nC. Лето\nD. Весна\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-13", "prompt": "Сколько сторон у треугольника?\nA. Две\nB. Три\nC. Четыре\nD. Пять\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-abcd-14", "prompt": "Лёд — это твёрдое состояние какого вещества?\nA. Соли\nB. Песка\nC. Воды\nD. Стекла\nОтветь одной буквой.", "choices": ["A", "B", "C", "D"], "answer": 2, "answer_prefix": "Ответ:"}
{"id": "ru-yesno-01", "prompt": "Правильно ли построено предложение? «Она имеют двух братьев.»\nОтветь «Да» или «Нет».", "choices": ["Да", "Нет"], "answer": 1, "answer_prefix": "Ответ:"}
{"id": "ru-yesno-02", "prompt": "Правильно ли построено предложение? «После долгой прогулки они устали.»\nОтветь «Да» или «Нет».", "choices": ["Да", "Нет"], "answer": 0, "answer_prefix": "Ответ:"}
{"id": "ru-yesno-03", "prompt": "Следует ли второе утверждение из первого? «Том запер дверь и ушёл.» «Том ушёл.»\nОтветь «Да» или «Нет».", "choices": ["Да", "Нет"], "answer": 0, "answer_prefix": "Ответ:"}
{"id": "ru-yesno-04", "prompt": "Следует ли второе утверждение из первого? «Весь день шёл дождь.» «Улицы остались сухими.»\nОтветь «Да» или «Нет».", "choices": ["Да", "Нет"], "answer": 1, "answer_prefix": "Ответ:"}
"""# + "\n"),
        ("en/mc_continuation.jsonl", #"""
{"id": "en-cloze-01", "prompt": "The opposite of hot is", "choices": ["cold", "loud", "tall", "heavy"], "answer": 0}
{"id": "en-cloze-02", "prompt": "A person who flies an aeroplane is called a", "choices": ["pilot", "baker", "tailor", "farmer"], "answer": 0}
{"id": "en-cloze-03", "prompt": "You write on a blackboard with a piece of", "choices": ["chalk", "cheese", "glass", "rope"], "answer": 0}
{"id": "en-cloze-04", "prompt": "Bees make", "choices": ["honey", "milk", "silk", "wool"], "answer": 0}
{"id": "en-cloze-05", "prompt": "The capital of Italy is", "choices": ["Madrid", "Rome", "Vienna", "Lisbon"], "answer": 1}
{"id": "en-cloze-06", "prompt": "To cut paper you usually use", "choices": ["a spoon", "scissors", "a pillow", "a kettle"], "answer": 1}
{"id": "en-cloze-07", "prompt": "Fish breathe with their", "choices": ["gills", "wings", "ears", "feathers"], "answer": 0}
{"id": "en-cloze-08", "prompt": "The third month of the year is", "choices": ["January", "March", "May", "October"], "answer": 1}
"""# + "\n"),
        ("ru/mc_continuation.jsonl", #"""
{"id": "ru-cloze-01", "prompt": "Противоположность слова «горячий» — это", "choices": ["холодный", "громкий", "высокий", "тяжёлый"], "answer": 0}
{"id": "ru-cloze-02", "prompt": "Человек, который управляет самолётом, называется", "choices": ["пилот", "пекарь", "портной", "фермер"], "answer": 0}
{"id": "ru-cloze-03", "prompt": "На школьной доске обычно пишут", "choices": ["мелом", "сыром", "стеклом", "верёвкой"], "answer": 0}
{"id": "ru-cloze-04", "prompt": "Пчёлы делают", "choices": ["мёд", "молоко", "шёлк", "шерсть"], "answer": 0}
{"id": "ru-cloze-05", "prompt": "Столица Италии —", "choices": ["Мадрид", "Рим", "Вена", "Лиссабон"], "answer": 1}
{"id": "ru-cloze-06", "prompt": "Бумагу обычно режут", "choices": ["ложкой", "ножницами", "подушкой", "чайником"], "answer": 1}
{"id": "ru-cloze-07", "prompt": "Рыбы дышат с помощью", "choices": ["жабр", "крыльев", "ушей", "перьев"], "answer": 0}
{"id": "ru-cloze-08", "prompt": "Третий месяц года —", "choices": ["январь", "март", "май", "октябрь"], "answer": 1}
"""# + "\n"),
    ]

    /// The contents of one bundled file, or nil.
    public static func file(_ path: String) -> String? { files.first { $0.path == path }?.contents }

    /// The bundled languages.
    public static let languages = ["en", "ru"]
}
